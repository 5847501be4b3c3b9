"""Shared real media for the media_assets tests (built once per session with ffmpeg/Pillow)."""

from __future__ import annotations

import contextlib
import http.server
import shutil
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.media_assets import hostile

@pytest.fixture(scope="session")
def _ffmpeg_installed() -> None:
    # `make test` installs ffmpeg; a missing one must fail the run, not skip the media tests.
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        pytest.fail("ffmpeg/ffprobe are required to make and check real media: run `make test`, which installs them")


requires_ffmpeg = pytest.mark.usefixtures("_ffmpeg_installed")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def mp4_file(media_dir: Path) -> Path:
    return hostile.make_mp4(media_dir / "clip.mp4")


@pytest.fixture(scope="session")
def long_mp4_file(media_dir: Path) -> Path:
    """4 s with a front moov, so a cut copy still probes but fails to decode."""
    return hostile.make_mp4(media_dir / "long.mp4", seconds=4.0, faststart=True)


@pytest.fixture(scope="session")
def mp3_file(media_dir: Path) -> Path:
    return hostile.make_mp3(media_dir / "tone.mp3")


@pytest.fixture(scope="session")
def png_file(media_dir: Path) -> Path:
    return hostile.make_png(media_dir / "pic.png")


@pytest.fixture(scope="session")
def jpeg_exif_file(media_dir: Path) -> Path:
    return hostile.make_jpeg_with_exif(media_dir / "photo.jpg")


@pytest.fixture(scope="session")
def bomb_png(media_dir: Path) -> Path:
    return hostile.png_bomb(media_dir / "bomb.png")


@dataclass
class RecordingServer:
    """A threaded HTTP server on 127.0.0.1 that records every connection and request."""

    port: int
    connections: list[tuple[str, int]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    routes: dict[str, object] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    """HTTP server whose routes are callables ``handler(request_handler) -> None``."""
    with serve_recording() as state:
        yield state


@contextlib.contextmanager
def serve_recording(ssl_context: ssl.SSLContext | None = None) -> Iterator[RecordingServer]:
    state = RecordingServer(port=0)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            state.requests.append({"path": self.path, "host": self.headers.get("Host", "")})
            route = state.routes.get(self.path.split("?")[0])
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            route(self)  # type: ignore[operator]

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def verify_request(self, request: object, client_address: tuple[str, int]) -> bool:  # type: ignore[override]
            state.connections.append(client_address)
            return True

    server = Server(("127.0.0.1", 0), Handler)
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _private_media(media_root):
    """Every test here stores media in its own folder (tests/conftest.py: media_root)."""
    return media_root
