"""HTTP byte-range handling (RFC 9110 section 14) for media streaming.

Decisions:
* One range is answered with 206.  A request for several ranges is answered
  with the whole body (200): browsers and players ask for one range, and
  multipart/byteranges buys nothing here but parsing cost and abuse surface.
* A malformed ``bytes=`` header or a range starting at or past the end is
  answered with 416 and ``Content-Range: bytes */<size>``.  A header in
  another unit is ignored (200), as the RFC asks.
* ``If-Range`` is not evaluated here; callers that support validators should
  drop the Range header when it does not match.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpResponse, StreamingHttpResponse

CHUNK_SIZE = 64 * 1024
_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class RangeNotSatisfiable(Exception):
    """The Range header cannot be served; answer 416 with ``bytes */size``."""

    def __init__(self, size: int) -> None:
        super().__init__(f"Range not satisfiable for a {size} byte resource")
        self.size = size


def parse_range_header(header: str | None, size: int) -> tuple[int, int] | None:
    """Return the inclusive ``(start, end)`` to serve, or None for the full body.

    None: no header, another unit, or several ranges.  Raises
    RangeNotSatisfiable for malformed or unsatisfiable byte ranges.
    """
    if not header:
        return None
    unit, sep, spec = header.partition("=")
    if not sep:
        raise RangeNotSatisfiable(size)
    if unit.strip().lower() != "bytes":
        return None
    parts = spec.split(",")
    parsed = [_parse_one(part, size) for part in parts]  # validate every part
    if len(parsed) > 1:
        return None
    return parsed[0]


def _parse_one(part: str, size: int) -> tuple[int, int]:
    match = _SPEC.match(part)
    if not match or (not match.group(1) and not match.group(2)):
        raise RangeNotSatisfiable(size)
    first, last = match.group(1), match.group(2)
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(size)
    return start, min(end, size - 1)


def iter_file_range(
    source: str | os.PathLike[str] | IO[bytes], start: int, end: int, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """Yield bytes ``start..end`` (inclusive) from a path or a seekable binary file.

    A path is opened and closed by the generator; a file object is left open
    (its owner closes it).  Stops early if the file is shorter than expected.
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            yield from _iter_open(fh, start, end, chunk_size)
    else:
        yield from _iter_open(source, start, end, chunk_size)


def _iter_open(fh: IO[bytes], start: int, end: int, chunk_size: int) -> Iterator[bytes]:
    fh.seek(start)
    left = end - start + 1
    while left > 0:
        data = fh.read(min(chunk_size, left))
        if not data:
            return
        left -= len(data)
        yield data


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    """Look a header up in ``request.headers``, ``request.META`` or a plain dict."""
    wanted = {name.lower(), "http_" + name.lower().replace("-", "_")}
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if str(k).lower() in wanted), None)
    return None if value is None else str(value)


def range_response(
    request_headers: Mapping[str, Any],
    path_or_file: str | os.PathLike[str] | IO[bytes],
    size: int,
    content_type: str,
    *,
    filename: str | None = None,
    attachment: bool = False,
    head: bool = False,
) -> StreamingHttpResponse | HttpResponse:
    """Build a Django response for a full (200), partial (206) or refused (416) request.

    ``request_headers`` may be ``request.headers``, ``request.META`` or a dict.
    Headers: Accept-Ranges, Content-Length, Content-Range (206/416),
    X-Content-Type-Options: nosniff, Content-Disposition when a filename is
    given or ``attachment`` is set.  With ``head`` (a HEAD request) the same
    headers come with no body, and the file is not read.
    """
    from django.http import HttpResponse, StreamingHttpResponse
    from django.utils.http import content_disposition_header

    try:
        byte_range = parse_range_header(_header(request_headers, "Range"), size)
    except RangeNotSatisfiable:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        refused["X-Content-Type-Options"] = "nosniff"
        if not isinstance(path_or_file, (str, os.PathLike)):
            path_or_file.close()
        return refused
    start, end = byte_range if byte_range else (0, size - 1)
    status = 206 if byte_range else 200
    response: StreamingHttpResponse | HttpResponse
    if head:
        # Servers drop a HEAD answer's body, but a streamed one would still be read to the end.
        response = HttpResponse(status=status, content_type=content_type)
        if not isinstance(path_or_file, (str, os.PathLike)):
            path_or_file.close()
    else:
        response = StreamingHttpResponse(
            _closing(iter_file_range(path_or_file, start, end), path_or_file), status=status, content_type=content_type
        )
    response["Content-Length"] = str(max(0, end - start + 1))
    if byte_range:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    disposition = content_disposition_header(attachment, filename) if (attachment or filename) else None
    if disposition:
        response["Content-Disposition"] = disposition
    return response


def _closing(chunks: Iterator[bytes], source: object) -> Iterator[bytes]:
    # A file object handed to the response is closed once streaming ends (or is abandoned).
    try:
        yield from chunks
    finally:
        if not isinstance(source, (str, os.PathLike)) and hasattr(source, "close"):
            source.close()  # type: ignore[union-attr]
