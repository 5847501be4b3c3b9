"""One asyncio event loop per process, on a daemon thread, for sync code that calls async clients.

`async_to_sync` builds a fresh event loop for every call, and a Redis channel layer keeps its
connections per loop: every broadcast from a worker therefore opened (and dropped) a Redis
connection. Coroutines run here share one loop, so they share its connections. A forked child
(django-q forks its workers) starts its own loop on first use.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, Coroutine

_lock = threading.Lock()
_state: dict[str, Any] = {"pid": None, "loop": None}


def _loop() -> asyncio.AbstractEventLoop:
    with _lock:
        if _state["pid"] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="background-loop", daemon=True).start()
            _state["pid"], _state["loop"] = os.getpid(), loop
        return _state["loop"]


def run_in_background_loop(coro: Coroutine[Any, Any, Any], *, timeout: float = 10.0) -> Any:
    """Run ``coro`` on this process's background loop and wait for its result (from sync code only)."""
    return asyncio.run_coroutine_threadsafe(coro, _loop()).result(timeout)
