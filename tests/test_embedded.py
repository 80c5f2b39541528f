"""Without REDIS_URL the app starts one embedded Valkey per DATA_DIR, shared by every process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import redis

from bot import create_app
from bot.embedded import ensure_server, stop_server
from tests.helpers import sign

STARTER = "import sys; from bot.embedded import ensure_server; print(ensure_server(sys.argv[1]))"


@pytest.fixture
def data_dir(tmp_path: Path):
    yield tmp_path / "data"
    stop_server(tmp_path / "data")


def test_processes_racing_to_start_share_one_server(data_dir: Path):
    root = Path(__file__).resolve().parent.parent
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(data_dir)],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    urls = {p.communicate(timeout=30)[0].strip() for p in procs}
    assert len(urls) == 1
    (url,) = urls
    assert url.startswith("unix://")
    pid = (data_dir / "valkey.pid").read_text().strip()
    servers = subprocess.run(["pgrep", "-f", str(data_dir)], capture_output=True, text=True)
    assert servers.stdout.split() == [pid]
    client = redis.Redis.from_url(url)
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert Path(client.config_get("dir")["dir"]) == data_dir.resolve()


def test_app_without_redis_url_stores_in_the_embedded_server(data_dir: Path):
    # UPKEEP_SECONDS 0: no background thread, which would start the server again after the test
    config = {"TESTING": True, "REDIS_URL": "", "DATA_DIR": str(data_dir), "UPKEEP_SECONDS": 0}
    app = create_app({**config, "TWILIO_AUTH_TOKEN": "tok"})
    params = {"From": "+15550001111", "Body": "HELP"}
    headers = {"X-Twilio-Signature": sign("http://localhost/sms", params, token="tok")}
    assert app.test_client().post("/sms", data=params, headers=headers).status_code == 200
    client = redis.Redis.from_url(ensure_server(data_dir))
    assert client.llen("tl:log:{sms:+15550001111}") == 2
    # A second app (another worker) sees the same data.
    other = create_app(config)
    assert other.redis.llen("tl:log:{sms:+15550001111}") == 2
