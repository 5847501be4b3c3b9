"""HEAD on a library file through the real server (daphne): the headers of a GET, no body bytes."""

import socket

import pytest

from tests.conftest import server_user
from tests.factories import WorkspaceFactory
from tests.pages.conftest import log_in, make_clip

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def raw(port: int, method: str, path: str, session: str) -> tuple[str, bytes]:
    request = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: sessionid={session}\r\n"
               "Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def headers(head: str) -> dict[str, str]:
    lines = head.split("\r\n")[1:]
    return {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}


def test_head_on_a_file_sends_the_get_headers_and_no_body(stack, page, tmp_path):
    clip = make_clip(tmp_path / "harbour.mp4")
    server_user("hed", WorkspaceFactory(name="Head Co"))
    stack.start(worker=False)
    log_in(page, stack.url, "hed")
    page.goto(f"{stack.url}/library/")
    page.set_input_files("#id_files", str(clip))
    page.wait_for_selector(".asset-card:has-text('harbour')")
    asset_id = page.get_attribute(".asset-card", "data-asset-id")
    session = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")

    got_head, got_body = raw(stack.port, "GET", f"/library/{asset_id}/file/", session)
    head_head, head_body = raw(stack.port, "HEAD", f"/library/{asset_id}/file/", session)

    assert got_head.startswith("HTTP/1.1 200") and head_head.startswith("HTTP/1.1 200")
    assert got_body == clip.read_bytes() and head_body == b""
    same = ("content-type", "content-length", "accept-ranges", "content-disposition")
    assert {h: headers(head_head).get(h) for h in same} == {h: headers(got_head).get(h) for h in same}
    assert headers(head_head)["content-length"] == str(clip.stat().st_size)
