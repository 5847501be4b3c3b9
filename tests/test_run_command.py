"""The README's run command itself: it comes up on the embedded defaults, the printed login works,
and stopping it stops each child cleanly and leaves no process behind."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
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


def start_runner(tmp_path, **extra_env):
    """The run command on the embedded defaults (plus ``extra_env``): the process, its port, the
    printed login and what it printed up to it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({"MEDIASTUDIO_VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(tmp_path / "media"), "PYTHONUNBUFFERED": "1",
                **extra_env})
    started = time.monotonic()
    runner = subprocess.Popen(
        [sys.executable, "-m", "mediastudio.runner", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output, login = [], None
    while time.monotonic() - started < 120:
        line = runner.stdout.readline()
        if not line:
            break
        output.append(line)
        match = re.search(r"login: (\S+) / (\S+)", line)
        if match:
            login = match.groups()
            break
    return runner, port, login, "".join(output)


@contextlib.contextmanager
def logged_in(port, login) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        page = client.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = client.post("/login/", data={"username": login[0], "password": login[1], "csrfmiddlewaretoken": token})
        assert response.status_code == 302
        yield client


def stop(runner, children) -> str:
    runner.send_signal(signal.SIGTERM)
    runner.wait(30)
    stopping = runner.stdout.read()
    time.sleep(0.5)
    left = [pid for pid in children if alive(pid)]
    assert left == [], f"children still running: {left}"
    assert runner.returncode == 0
    return stopping


def test_the_run_command_serves_the_studio_and_stops_cleanly(tmp_path):
    runner, port, login, output = start_runner(tmp_path)
    children: set[int] = set()
    try:
        assert login, output
        assert "local GPU" not in output  # nothing is said of a provider that is not set up
        children = descendants(runner.pid)
        assert len(children) >= 3  # redis, worker, web
        with logged_in(port, login) as client:
            dashboard = client.get("/")
            assert dashboard.status_code == 200 and "Spring launch" in dashboard.text
    finally:
        stopping = stop(runner, children)
    # Each child stopped of itself (the worker while its Redis still ran), none had to be killed.
    assert "stopping worker" in stopping and "did not stop in time" not in stopping, stopping


def test_with_a_local_model_it_starts_a_gpu_worker_that_renders_the_local_provider_jobs(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from generation.providers.diffusers_random import save_random_pipeline

    model = save_random_pipeline(tmp_path / "tiny-t2v", size="tiny")
    runner, port, login, output = start_runner(
        tmp_path, DIFFUSERS_MODEL_DIR=str(model), DIFFUSERS_DEVICE="cpu", DIFFUSERS_FRAME_SIZE="32x48", DIFFUSERS_STEPS="2")
    children: set[int] = set()
    try:
        assert login, output
        assert f"local GPU generation on, from {model}" in output
        children = descendants(runner.pid)
        with logged_in(port, login) as client:
            made = client.post("/api/video/generate", headers={"X-CSRFToken": client.cookies["csrftoken"]}, json={
                "prompt": "a can", "provider": "diffusers", "allow_fallback": False, "duration": 1,
                "aspect_ratio": "9:16", "resolution": "480p", "wait": 60})
            assert made.status_code in (200, 202), made.text
            job = made.json()
            deadline = time.monotonic() + 120  # the GPU worker imports torch and loads the model first
            while job["status"] not in ("succeeded", "failed", "canceled") and time.monotonic() < deadline:
                time.sleep(1)
                job = client.get(f"/api/video/jobs/{job['id']}").json()
            assert (job["status"], job["attempts"][0]["provider"]) == ("succeeded", "diffusers"), job
    finally:
        stopping = stop(runner, children)
    assert "stopping gpu-worker" in stopping, stopping


def test_it_says_why_local_gpu_generation_is_off_when_it_is_half_set_up(tmp_path, monkeypatch):
    from mediastudio import runner

    assert runner.local_gpu_worker({}) == (False, "")
    gpu, why = runner.local_gpu_worker({"DIFFUSERS_MODEL_DIR": str(tmp_path)})
    assert not gpu and "holds no diffusers pipeline" in why
    (tmp_path / "model_index.json").write_text("{}")
    assert runner.local_gpu_worker({"DIFFUSERS_MODEL_DIR": str(tmp_path), "DIFFUSERS_ENABLED": "false"}) == (False, "")
    monkeypatch.setattr(runner.importlib.util, "find_spec", lambda name: None)  # no torch here
    gpu, why = runner.local_gpu_worker({"DIFFUSERS_MODEL_DIR": str(tmp_path)})
    assert not gpu and "pip install -e '.[gpu]'" in why
    gpu, why = runner.local_gpu_worker({"DIFFUSERS_MODEL_DIR": str(tmp_path), "DIFFUSERS_ENABLED": "true"})
    assert not gpu and "GPU worker started elsewhere" in why
