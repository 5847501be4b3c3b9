"""Probe and decode-check untrusted media in a long-lived child process (media_assets.inspect_child).

One child per process, started on first use and shared by its threads (a lock keeps one request
in flight; an answer takes a few milliseconds). The child is killed and started afresh when it
overruns the timeout, dies, or has answered RECYCLE_AFTER requests. Its environment holds no
secrets, and it may only read local files of the allowed containers (``protocol_whitelist`` and
``format_whitelist``, as the ffprobe calls in media_assets.probe).

``inspect_media`` returns the same ProbeResult as ``probe.probe_media`` and raises the same
ProbeError codes, plus "corrupt" when the head or the tail does not decode.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
from typing import Any

from media_assets.probe import FORMAT_WHITELIST, ProbeError, ProbeResult, check_probe_json, parse_probe, require_av_container

RECYCLE_AFTER = 500


class _Child:
    def __init__(self) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}  # no secrets
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "media_assets.inspect_child"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=_project_root(), bufsize=0,
            close_fds=True,
        )
        self.answered = 0
        self.buffer = b""

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        pending = memoryview(json.dumps(request).encode() + b"\n")
        while pending:  # an unbuffered pipe may take a long request in parts
            pending = pending[self.proc.stdin.write(pending) or 0:]
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise TimeoutError
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise EOFError
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        self.answered += 1
        return json.loads(line)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:  # the child died with our request unread
                pass


def _project_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_lock = threading.Lock()
_state: dict[str, Any] = {"pid": None, "child": None}


def _child() -> _Child:
    if _state["pid"] != os.getpid() or _state["child"] is None:  # first use, or a forked worker
        _state["pid"], _state["child"] = os.getpid(), _Child()
    return _state["child"]


def _drop_child() -> None:
    child = _state["child"]
    _state["child"] = None
    if child is not None and _state["pid"] == os.getpid():
        child.stop()


def inspect_media(
    path: str | os.PathLike[str], *, timeout: float = 30, head: float = 1.0, tail: float = 1.0,
    max_size: tuple[int, int] | None = None,
) -> tuple[ProbeResult, str | None]:
    """Probe an untrusted audio/video file and decode its first ``head`` seconds and its tail.

    Returns (probe, decode_error): decode_error is None when both windows decoded cleanly, else a
    short reason. A video larger than ``max_size`` is probed, not decoded (the caller refuses it).
    Raises ProbeError when the file is not an allowed, readable container."""
    require_av_container(path)
    request = {"path": os.path.abspath(os.fspath(path)), "formats": FORMAT_WHITELIST, "head": head, "tail": tail,
               "max_size": list(max_size) if max_size else None}
    with _lock:
        child = _child()
        try:
            answer = child.ask(request, timeout)
        except TimeoutError:
            _drop_child()
            raise ProbeError("timeout", f"Reading the media took longer than {timeout:g} s.") from None
        except (EOFError, OSError, ValueError):
            _drop_child()  # the child died on this file (or its answer was garbled)
            raise ProbeError("unreadable", "The media file could not be read (its decoder stopped).") from None
        if child.answered >= RECYCLE_AFTER:
            _drop_child()
    if not answer.get("ok"):
        raise ProbeError("unreadable", f"The media file could not be read (corrupt or truncated): {answer.get('error', '')[-200:]}")
    data = {"format": answer["format"], "streams": answer["streams"]}
    check_probe_json(data)
    return parse_probe(data), answer.get("decode_error")
