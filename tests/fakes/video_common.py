"""Shared toolkit for fake video-vendor HTTP servers (used by every tests/fakes/<vendor>_server.py).

A fake is a real threaded HTTP server on 127.0.0.1 (port 0) that speaks one vendor's protocol.
Subclass `FakeVideoServer`, declare routes with `@route`, and use what the base gives:

    class AcmeFake(FakeVideoServer):
        vendor = "acme"
        SEQUENCE = (("queued", None), ("running", 0.4), ("running", 0.8), ("done", 1.0))

        def error_body(self, status, message, code=""):       # the vendor's error shape
            return {"error": {"message": message, "code": code}}

        @route("POST", r"/v1/videos")
        def create(self, req):
            if req.header("authorization") != "Bearer good":
                return self.error(401, "bad key")
            task = self.new_task(req.json, sequence=self.SEQUENCE)
            return Reply(200, {"id": task.id})

        @route("GET", r"/v1/videos/(?P<task_id>[^/]+)")
        def get(self, req, task_id):
            task = self.tasks[task_id]
            state, progress = task.advance()                   # one step per poll
            ...

    with AcmeFake() as fake:                                   # starts; .stop() on exit
        fake.url                                               # "http://127.0.0.1:<port>"
        fake.requests                                          # log: list[LoggedRequest]
        fake.inject(429, headers={"Retry-After": "3"})         # next matching request fails
        fake.switches.moderation = True                        # next tasks end moderated
        fake.switches.never_finish = True                      # next tasks never leave "running"
        fake.switches.expire_outputs = True                    # output URLs are born expired
        fake.output_url()                                      # signed, expiring MP4 URL

Public API (kept small and stable; other fakes import it):
    route(method, pattern)            decorator for handler methods (pattern: full-match regex on the path)
    Reply(status, body, headers)      body: dict/list (JSON), bytes, or str
    Request                           .method .path .query (dict of first values) .headers .body .json .header(name)
    LoggedRequest                     same fields, kept in FakeVideoServer.requests
    Switches                          moderation, never_finish, expire_outputs, extra (dict)
    FakeTask                          .id .payload .sequence .outcome .polls .canceled .data; advance(); finished
    FakeVideoServer                   start/stop/url/requests/inject/switches/new_task/tasks/output_url/error
                                      calls(method=None, path_prefix=None) -> list[LoggedRequest]
    sample_mp4(vertical=False) -> bytes   a real 1 s MP4 (160x90 or 90x160, testsrc2 + sine), made once
    make_mp4(dest, width=, height=, duration=, colour=) -> Path
    Clip / clip_for(prompt=, duration=, aspect_ratio=, resolution=, size=)
                                      the clip a request asks for: its size (from a pixel size, or an
                                      aspect ratio and a resolution), its duration and a colour taken
                                      from the prompt (the same prompt, the same colour)
    clip_mp4(clip) -> bytes           that clip rendered by ffmpeg (4 fps), cached per clip
    FakeVideoServer.output_url(clip=) a signed URL serving that clip; fakes that serve bytes
                                      themselves (Veo, OpenAI) call clip_mp4 directly
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, ClassVar
from urllib.parse import parse_qs, urlsplit

# --------------------------------------------------------------------------- media fixture

_MP4_CACHE: dict[tuple[int, int], bytes] = {}
_MP4_LOCK = threading.Lock()


def make_mp4(dest: Path | str, *, width: int = 160, height: int = 90, duration: float = 1.0, colour: str = "",
             rate: int = 24) -> Path:
    """Render a real MP4 (H.264 + AAC) with ffmpeg: testsrc2 and a 440 Hz sine, or, with `colour`
    (6 hex digits), that colour with a small test pattern moving across it, so a clip is plainly a
    moving video of its own colour."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is not installed; the fake video servers need it for their output fixture.")
    dest = Path(dest)
    if colour:
        box = max(16, min(width, height) // 4) // 2 * 2
        video = ["-f", "lavfi", "-i", f"color=c=0x{colour}:size={width}x{height}:rate={rate}:duration={duration}",
                 "-f", "lavfi", "-i", f"testsrc2=size={box}x{box}:rate={rate}:duration={duration}"]
        graph = ["-filter_complex",
                 f"[0:v][1:v]overlay=x='(W-w)*t/{max(duration, 0.001)}':y='(H-h)/2':shortest=1[v]", "-map", "[v]", "-map", "2:a"]
    else:
        video = ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={rate}:duration={duration}"]
        graph = []
    args = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *video,
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={duration}",
        *graph,
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart",
        str(dest),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed to make the MP4 fixture: {done.stderr.strip()[:500]}")
    return dest


def sample_mp4(*, vertical: bool = False) -> bytes:
    """Bytes of a 1 s MP4, 160x90 (or 90x160 when vertical); rendered once per process."""
    size = (90, 160) if vertical else (160, 90)
    with _MP4_LOCK:
        if size not in _MP4_CACHE:
            with tempfile.TemporaryDirectory(prefix="fake-mp4-") as tmp:
                path = make_mp4(Path(tmp) / "out.mp4", width=size[0], height=size[1])
                _MP4_CACHE[size] = path.read_bytes()
        return _MP4_CACHE[size]


# Short side of each resolution name the vendors use.
RESOLUTION_SHORT_SIDE = {"480p": 480, "540p": 540, "720p": 720, "1080p": 1080, "4k": 2160}
CLIP_RATE = 4  # frames per second: no protocol sets it, and few frames keep a 1080p clip fast to make


@dataclass(frozen=True)
class Clip:
    """What a fake renders for one request: its size, its length, and a colour from its prompt."""

    width: int
    height: int
    duration: float
    colour: str  # 6 hex digits

    @property
    def name(self) -> str:
        """The clip's file name: every parameter in it (signed with the URL, so it cannot be forged)."""
        return f"{self.width}x{self.height}-{int(round(self.duration * 1000))}ms-{self.colour}.mp4"

    @classmethod
    def from_name(cls, name: str) -> "Clip | None":
        match = re.search(r"(\d+)x(\d+)-(\d+)ms-([0-9a-f]{6})\.mp4$", name)
        if match is None:
            return None
        return cls(int(match[1]), int(match[2]), int(match[3]) / 1000, match[4])


def prompt_colour(prompt: str) -> str:
    """A colour for a prompt (6 hex digits), kept out of the darkest and lightest tones so it shows."""
    digest = hashlib.sha256((prompt or "").encode()).digest()
    return "".join(f"{48 + b * 160 // 255:02x}" for b in digest[:3])


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)  # H.264 in yuv420p needs even sides


def clip_for(*, prompt: str, duration: float | int | str, aspect_ratio: str = "16:9", resolution: str = "720p",
             size: str = "") -> Clip:
    """The clip a request asks for. `size` ("1280x720" or Runway's "1280:720") wins; else the aspect
    ratio ("9:16") at the resolution's short side ("720p": 720). `duration` may be 5, "5" or "5s"."""
    seconds = float(str(duration).rstrip("s"))
    match = re.fullmatch(r"(\d+)[x:](\d+)", size or "")
    if match:
        width, height = int(match[1]), int(match[2])
    else:
        a, _, b = (aspect_ratio or "16:9").partition(":")
        ratio = float(a) / float(b or 1)
        short = RESOLUTION_SHORT_SIDE.get((resolution or "720p").lower(), 720)
        width, height = (short * ratio, short) if ratio >= 1 else (short, short / ratio)
    return Clip(_even(width), _even(height), seconds, prompt_colour(prompt))


_CLIP_CACHE: dict[Clip, bytes] = {}
_CLIP_LOCKS: dict[Clip, threading.Lock] = {}


def clip_mp4(clip: Clip) -> bytes:
    """The clip rendered once per process (the same request again is served from memory)."""
    with _MP4_LOCK:
        lock = _CLIP_LOCKS.setdefault(clip, threading.Lock())
    with lock:  # one render per clip; different clips render side by side
        if clip not in _CLIP_CACHE:
            with tempfile.TemporaryDirectory(prefix="fake-clip-") as tmp:
                path = make_mp4(Path(tmp) / "out.mp4", width=clip.width, height=clip.height, duration=clip.duration,
                                colour=clip.colour, rate=CLIP_RATE)
                _CLIP_CACHE[clip] = path.read_bytes()
        return _CLIP_CACHE[clip]


# --------------------------------------------------------------------------- request / reply


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON; None when empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


LoggedRequest = Request


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes; str
    headers: dict[str, str] = field(default_factory=dict)


def route(method: str, pattern: str) -> Callable[[Callable[..., Reply]], Callable[..., Reply]]:
    """Mark a handler: called as handler(self, request, **named_groups) when method and path match."""

    def mark(fn: Callable[..., Reply]) -> Callable[..., Reply]:
        fn._fake_route = (method.upper(), re.compile(pattern))  # type: ignore[attr-defined]
        return fn

    return mark


# --------------------------------------------------------------------------- tasks and switches


@dataclass
class Switches:
    """Failure switches read by fakes when a task is created (or an output URL minted)."""

    moderation: bool = False  # the task ends in the vendor's content-moderation failure
    never_finish: bool = False  # the task stays in its last running state forever
    expire_outputs: bool = False  # output URLs are already expired when handed out
    extra: dict[str, Any] = field(default_factory=dict)  # vendor-specific switches


@dataclass
class FakeTask:
    """One render. `sequence` is the vendor's (state, progress 0..1 or None) steps, final step last."""

    id: str
    payload: Any
    sequence: tuple[tuple[str, float | None], ...]
    outcome: str = "success"  # success | moderation | never
    polls: int = 0
    canceled: bool = False
    created_at: float = field(default_factory=time.time)
    data: dict[str, Any] = field(default_factory=dict)  # the fake's own bookkeeping (output URL, kind...)

    def advance(self) -> tuple[str, float | None]:
        """The step this poll sees, then move one step on. A 'never' task stops before the final step."""
        steps = self.sequence if self.outcome != "never" else self.sequence[:-1] or self.sequence
        step = steps[min(self.polls, len(steps) - 1)]
        self.polls += 1
        return step

    @property
    def finished(self) -> bool:
        """True once a poll has returned the final step (never for outcome 'never')."""
        return self.outcome != "never" and self.polls >= len(self.sequence)


@dataclass
class _Injection:
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    method: str | None
    path_prefix: str | None


# --------------------------------------------------------------------------- server


class _Handler(BaseHTTPRequestHandler):
    # Headers and body are separate writes: without this, keep-alive clients stall ~40 ms per
    # request on a delayed ACK.
    disable_nagle_algorithm = True
    server: "_HTTPServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query={k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            reply = self.server.owner._dispatch(request)
        except Exception as exc:  # a bug in a fake must show up as a 500, not a hung client
            reply = Reply(500, {"fake_error": f"{type(exc).__name__}: {exc}"})
        payload, content_type = _encode(reply.body)
        self.send_response(reply.status)
        headers = {"Content-Type": content_type, **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: "FakeVideoServer"


def _encode(body: Any) -> tuple[bytes, str]:
    if body is None:
        return b"", "application/json"
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json"


class FakeVideoServer:
    """Base of the fake vendor servers. See the module docstring."""

    vendor: ClassVar[str] = "fake"
    # Vendor answer to a GET of an expired output URL (S3/GCS-style signed URLs answer 403).
    expired_status: ClassVar[int] = 403
    output_ttl: ClassVar[float] = 3600.0
    _routes: ClassVar[list[tuple[str, re.Pattern[str], str]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        routes: list[tuple[str, re.Pattern[str], str]] = []
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                marker = getattr(value, "_fake_route", None)
                if marker:
                    routes.append((marker[0], marker[1], name))
        cls._routes = routes

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.switches = Switches()
        self.tasks: dict[str, FakeTask] = {}
        self._injections: list[_Injection] = []
        self._lock = threading.RLock()
        self._secret = secrets.token_bytes(16)
        self._ids = itertools.count(1)
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self, port: int = 0) -> "FakeVideoServer":
        """Serve on ``port`` of 127.0.0.1 (0: any free port); OSError when it is taken."""
        server = _HTTPServer(("127.0.0.1", port), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeVideoServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- log and failure injection

    def calls(self, method: str | None = None, path_prefix: str | None = None) -> list[Request]:
        """Logged requests, optionally filtered (output-file downloads included)."""
        with self._lock:
            return [
                r for r in self.requests
                if (method is None or r.method == method.upper()) and (path_prefix is None or r.path.startswith(path_prefix))
            ]

    def inject(
        self,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        method: str | None = None,
        path_prefix: str | None = None,
        message: str = "",
    ) -> None:
        """The next `times` matching requests answer `status` (body defaults to the vendor error shape)."""
        if body is None:
            body = self.error_body(status, message or f"injected {status}", "")
        with self._lock:
            self._injections.append(
                _Injection(status, body, dict(headers or {}), times, method.upper() if method else None, path_prefix)
            )

    # -- helpers for subclasses

    def error_body(self, status: int, message: str, code: str = "") -> Any:
        """The vendor's error JSON; override per vendor."""
        return {"error": message, "code": code}

    def error(self, status: int, message: str, code: str = "", headers: dict[str, str] | None = None) -> Reply:
        return Reply(status, self.error_body(status, message, code), dict(headers or {}))

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def new_task(self, payload: Any, *, sequence: tuple[tuple[str, float | None], ...], task_id: str | None = None) -> FakeTask:
        """Create a task whose outcome follows the switches at creation time."""
        outcome = "never" if self.switches.never_finish else "moderation" if self.switches.moderation else "success"
        task = FakeTask(id=task_id or self.new_id(), payload=payload, sequence=tuple(sequence), outcome=outcome)
        with self._lock:
            self.tasks[task.id] = task
        return task

    def output_url(self, *, clip: Clip | None = None, vertical: bool = False, ttl: float | None = None,
                   name: str | None = None) -> str:
        """A signed URL on this server of `clip` (or, without one, the 1 s fixture), expiring after
        `ttl` s (already expired when switches.expire_outputs is on)."""
        ttl = self.output_ttl if ttl is None else ttl
        expires = int(time.time() - 60) if self.switches.expire_outputs else int(time.time() + ttl)
        if clip is not None:
            name = name or f"{next(self._ids)}-{clip.name}"
        name = name or f"{next(self._ids)}-{'v' if vertical else 'h'}.mp4"
        sig = self._sign(name, expires)
        return f"{self.url}/_files/{name}?expires={expires}&sig={sig}"

    def _sign(self, name: str, expires: int) -> str:
        return hmac.new(self._secret, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def expired_reply(self) -> Reply:
        """What the vendor's storage answers for an expired link (override for the exact shape)."""
        return Reply(self.expired_status, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                     {"Content-Type": "application/xml"})

    # -- dispatch

    def _serve_file(self, request: Request) -> Reply:
        name = request.path.rsplit("/", 1)[-1]
        try:
            expires = int(request.query.get("expires", ""))
        except ValueError:
            return self.expired_reply()
        if not hmac.compare_digest(self._sign(name, expires), request.query.get("sig", "")):
            return Reply(403, "<Error><Code>SignatureDoesNotMatch</Code></Error>", {"Content-Type": "application/xml"})
        if expires < time.time():
            return self.expired_reply()
        clip = Clip.from_name(name)
        data = clip_mp4(clip) if clip is not None else sample_mp4(vertical=name.endswith("-v.mp4"))
        return Reply(200, data, {"Content-Type": "video/mp4"})

    def _dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            for injection in self._injections:
                if injection.method and injection.method != request.method:
                    continue
                if injection.path_prefix and not request.path.startswith(injection.path_prefix):
                    continue
                if injection.path_prefix is None and request.path.startswith("/_files/"):
                    continue  # a generic injection targets the API, not the storage
                injection.times -= 1
                if injection.times <= 0:
                    self._injections.remove(injection)
                return Reply(injection.status, injection.body, dict(injection.headers))
        if request.method in ("GET", "HEAD") and request.path.startswith("/_files/"):
            return self._serve_file(request)
        path_matched = False
        for method, pattern, name in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            path_matched = True
            if method != request.method:
                continue
            with self._lock:
                return getattr(self, name)(request, **match.groupdict())
        if path_matched:
            return self.error(405, f"{request.method} not allowed on {request.path}")
        return self.error(404, f"no route for {request.method} {request.path}")
