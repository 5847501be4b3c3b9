"""The README's run command itself: it comes up on the embedded defaults, the printed login works,
and stopping it stops each child cleanly and leaves no process behind."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.integration, pytest.mark.embedded]


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_the_run_command_serves_the_studio_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({"MEDIASTUDIO_VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(tmp_path / "media"), "PYTHONUNBUFFERED": "1"})
    started = time.monotonic()
    runner = subprocess.Popen(
        [sys.executable, "-m", "mediastudio.runner", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output, login = [], None
    try:
        while time.monotonic() - started < 120:
            line = runner.stdout.readline()
            if not line:
                break
            output.append(line)
            match = re.search(r"login: (\S+) / (\S+)", line)
            if match:
                login = match.groups()
                break
        assert login, "".join(output)
        children = descendants(runner.pid)
        assert len(children) >= 3  # redis, worker, web

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            page = client.get("/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            response = client.post("/login/", data={"username": login[0], "password": login[1], "csrfmiddlewaretoken": token})
            assert response.status_code == 302
            dashboard = client.get("/")
            assert dashboard.status_code == 200 and "Spring launch" in dashboard.text
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(30)
    stopping = runner.stdout.read()
    time.sleep(0.5)
    left = [pid for pid in children if alive(pid)]
    assert left == [], f"children still running: {left}"
    assert runner.returncode == 0
    # Each child stopped of itself (the worker while its Redis still ran), none had to be killed.
    assert "stopping worker" in stopping and "did not stop in time" not in stopping, stopping
