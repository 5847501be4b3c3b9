"""The vendor HTTP client keeps its connection between calls, and nothing else: each HttpClient
sends only its own headers, and no cookie travels from one caller to the next."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from mediastudio.lib.http import HttpClient


@pytest.fixture
def echo() -> Iterator[tuple[str, list[dict]]]:
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append({"port": self.client_address[1], "auth": self.headers.get("Authorization"),
                         "cookie": self.headers.get("Cookie")})
            raw = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Set-Cookie", "session=from-the-vendor; Path=/")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_clients_built_per_call_share_one_connection_per_thread(echo):
    url, seen = echo
    for key in ("first-key", "second-key", "third-key"):
        with HttpClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, vendor="Echo") as client:
            client.get("/status")
    assert len({request["port"] for request in seen}) == 1  # one TCP connection for three clients
    assert [request["auth"] for request in seen] == ["Bearer first-key", "Bearer second-key", "Bearer third-key"]


def test_a_vendors_cookie_is_not_sent_by_the_next_client(echo):
    url, seen = echo
    with HttpClient(base_url=url, vendor="Echo") as client:
        client.get("/status")
        client.get("/status")
    with HttpClient(base_url=url, vendor="Echo") as other:
        other.get("/status")
    assert [request["cookie"] for request in seen] == [None, None, None]


def test_another_thread_gets_its_own_connection(echo):
    url, seen = echo
    with HttpClient(base_url=url, vendor="Echo") as client:
        client.get("/status")
    worker = threading.Thread(target=lambda: HttpClient(base_url=url, vendor="Echo").get("/status"))
    worker.start()
    worker.join()
    assert len({request["port"] for request in seen}) == 2
