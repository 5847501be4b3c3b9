"""Worker to browser, through real processes: daphne and a django-q2 worker on real Redis,
the test database shared with them. A websocket client sees the job's progress in order."""

import json
import re
import time

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.conftest import server_user
from tests.factories import WorkspaceFactory

pytestmark = [pytest.mark.integration, pytest.mark.embedded]


def login(base_url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=10)
    page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post("/login/", data={"username": username, "password": "pw-for-tests-123", "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.text[:500]
    return client


def socket_for(stack, client: httpx.Client, path: str, origin: str | None = None):
    cookies = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    headers = {"Cookie": cookies, "Origin": origin or stack.url}
    return connect(f"ws://127.0.0.1:{stack.port}{path}", additional_headers=headers, open_timeout=10)


def test_worker_progress_reaches_the_workspace_socket_in_order(stack):
    ours = WorkspaceFactory(name="Ours")
    theirs = WorkspaceFactory(name="Theirs")
    server_user("alice", ours)
    server_user("mallory", theirs)
    stack.start()

    alice = login(stack.url, "alice")
    mallory = login(stack.url, "mallory")
    with socket_for(stack, alice, f"/ws/jobs/?workspace={ours.pk}") as ws, \
         socket_for(stack, mallory, f"/ws/jobs/?workspace={theirs.pk}") as other:
        assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
        assert json.loads(other.recv(timeout=10)) == {"type": "snapshot", "jobs": []}

        page = alice.get("/jobs/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        assert alice.post("/jobs/demo/", data={"csrfmiddlewaretoken": token}).status_code == 302

        events = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            except TimeoutError:
                break
            job = message["job"]
            events.append((job["status"], job["progress"], job["message"]))
            if job["status"] in ("succeeded", "failed"):
                break
        assert events, "no events arrived:\n" + stack.log_text()
        assert events[-1][0] == "succeeded", f"{events}\n{stack.log_text()}"
        progresses = [p for status, p, _ in events if status == "running"]
        assert progresses == sorted(progresses) and len(set(progresses)) >= 5
        steps = [m for _, _, m in events if m.startswith("Step ")]
        assert steps == sorted(set(steps), key=lambda m: int(m.split()[1]))

        with pytest.raises(TimeoutError):
            other.recv(timeout=1.0)  # the other workspace heard nothing

    # A page of another origin cannot open the socket with the user's cookie (cross-site websocket hijacking).
    with pytest.raises(InvalidStatus):
        with socket_for(stack, alice, f"/ws/jobs/?workspace={ours.pk}", origin="http://evil.example"):
            pass

    # And the other user cannot subscribe to this workspace or this job at all.
    with pytest.raises(Exception):
        with socket_for(stack, mallory, f"/ws/jobs/?workspace={ours.pk}") as ws:
            ws.recv(timeout=5)
