"""Shared fixtures: tenants and roles, API clients, a real Redis, and the real process stack."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(name="Acme")


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(name="Rival")


def _member(workspace, role, username):
    return MembershipFactory(workspace=workspace, user=UserFactory(username=username), role=role).user


@pytest.fixture
def owner(workspace):
    return _member(workspace, "owner", "owner")


@pytest.fixture
def viewer(workspace):
    return _member(workspace, "viewer", "viewer")


@pytest.fixture
def outsider(other_workspace):
    return _member(other_workspace, "owner", "outsider")


def pick_workspace(client, workspace) -> None:
    """What the workspace switcher does for a signed-in client: make ``workspace`` the current one."""
    session = client.session
    session["workspace_id"] = workspace.pk
    session.save()


@pytest.fixture
def media_root(settings, tmp_path):
    """A private local storage and temp dir per test, so "nothing left behind" can be checked."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}},
    }
    settings.MEDIA_TEMP_DIR = tmp_path / "tmp"
    return root


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_owner(api_client, owner):
    """An API client signed in as the workspace's owner."""
    api_client.force_authenticate(owner)
    return api_client


@pytest.fixture
def logged_in(client, owner):
    """The test client signed in as the workspace's owner (for pages)."""
    client.force_login(owner)
    return client


def server_user(username: str, workspace, role: str = "owner"):
    """A member whose password the real settings (another process) can check: PBKDF2, not MD5."""
    from django.contrib.auth.hashers import make_password

    user = UserFactory(username=username)
    user.password = make_password("pw-for-tests-123", hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    MembershipFactory(workspace=workspace, user=user, role=role)
    return user


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"port {port} did not open")


@pytest.fixture(scope="session")
def redis_url():
    """The Redis named by REDIS_URL (CI), else a bundled redis-server started for the session."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    from mediastudio.runner import redis_binary

    port = free_port()
    process = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, process=process)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


def subprocess_database_url() -> str:
    """The test database as a URL another process (worker, web server) can open."""
    from django.db import connection

    settings_dict = connection.settings_dict
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


class Stack:
    """daphne + one qcluster worker, running the real settings against the test database."""

    def __init__(self, *, redis_url: str, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DJANGO_SETTINGS_MODULE": "mediastudio.settings",
            "DATABASE_URL": subprocess_database_url(),
            "REDIS_URL": redis_url,
            "CHANNELS_PREFIX": f"test{self.port}",
            "MEDIASTUDIO_VAR_DIR": str(tmp_path / "var"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[subprocess.Popen] = []
        self.logs = tmp_path / "stack-logs"
        self.logs.mkdir(exist_ok=True)

    def start(self, *, worker: bool = True, web: bool = True) -> "Stack":
        if web:
            self._spawn("web", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "mediastudio.asgi:application"])
            wait_for_port(self.port, timeout=30, process=self.processes[-1])
        if worker:
            self._spawn("worker", [sys.executable, "manage.py", "qcluster"])
        return self

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.logs / f"{name}.log", "wb")
        self.processes.append(
            subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()

    def log_text(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs.iterdir())


@pytest.fixture
def stack(transactional_db, redis_url, tmp_path):
    running = Stack(redis_url=redis_url, tmp_path=tmp_path)
    yield running
    running.stop()


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")
