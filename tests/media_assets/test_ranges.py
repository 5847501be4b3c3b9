"""Byte-range parsing, chunked reading and the Django streaming response."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from media_assets.ranges import RangeNotSatisfiable, iter_file_range, parse_range_header, range_response

SIZE = 1000
DATA = bytes(i % 251 for i in range(SIZE))  # non-repeating within any small window


@pytest.fixture(autouse=True)
def _django_settings() -> None:
    from django.conf import settings

    if not settings.configured:  # running with -p no:django
        settings.configure(DEFAULT_CHARSET="utf-8")


@pytest.fixture
def blob(tmp_path: Path) -> Path:
    path = tmp_path / "blob.bin"
    path.write_bytes(DATA)
    return path


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=400-599", (400, 599)),
        ("bytes=-500", (500, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=100-", (100, 999)),
        ("bytes=900-5000", (900, 999)),
        ("Bytes = 0 - 0", (0, 0)),
        (None, None),
        ("", None),
        ("items=0-5", None),
        ("bytes=0-1,5-9", None),
    ],
)
def test_it_parses_satisfiable_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range_header(header, SIZE) == expected


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=5000-6000", "bytes=500-100", "bytes=-0", "bytes=abc", "bytes=", "bytes=-",
               "bytes=1-2-3", "0-99", "bytes=0-1,x"],
)
def test_it_refuses_unsatisfiable_or_malformed_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range_header(header, SIZE)


def test_it_refuses_any_range_of_an_empty_resource() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range_header("bytes=0-", 0)


def test_it_iterates_exact_bytes_in_chunks(blob: Path) -> None:
    chunks = list(iter_file_range(blob, 10, 209, chunk_size=64))
    assert [len(c) for c in chunks] == [64, 64, 64, 8]
    assert b"".join(chunks) == DATA[10:210]
    with blob.open("rb") as fh:
        assert b"".join(iter_file_range(fh, 990, 999)) == DATA[990:]
        assert not fh.closed


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=300-449", 300, 449), ("bytes=-500", 500, 999), ("bytes=100-", 100, 999)],
)
def test_it_answers_206_with_the_requested_bytes(blob: Path, header: str, start: int, end: int) -> None:
    response = range_response({"Range": header}, blob, SIZE, "video/mp4")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
    assert response["Content-Length"] == str(end - start + 1)
    assert response["Accept-Ranges"] == "bytes" and response["X-Content-Type-Options"] == "nosniff"
    assert _body(response) == DATA[start : end + 1]


def test_it_answers_200_with_the_full_body_without_a_range(blob: Path) -> None:
    response = range_response({}, blob, SIZE, "audio/mpeg")
    assert response.status_code == 200 and "Content-Range" not in response
    assert response["Content-Length"] == str(SIZE) and response["Content-Type"] == "audio/mpeg"
    assert _body(response) == DATA


def test_it_answers_multiple_ranges_with_the_full_body(blob: Path) -> None:
    response = range_response({"range": "bytes=0-1,10-20"}, blob, SIZE, "video/mp4")
    assert response.status_code == 200 and _body(response) == DATA


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=2000-3000", "bytes=xyz"])
def test_it_answers_416_with_the_size(blob: Path, header: str) -> None:
    response = range_response({"HTTP_RANGE": header}, blob, SIZE, "video/mp4")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"


def test_it_sets_an_attachment_disposition_and_closes_file_objects(blob: Path) -> None:
    fh = blob.open("rb")
    response = range_response(
        {"Range": "bytes=0-9"}, fh, SIZE, "video/mp4", filename="spring ad ü.mp4", attachment=True
    )
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''spring%20ad%20%C3%BC.mp4" in response["Content-Disposition"]
    assert _body(response) == DATA[:10]
    assert fh.closed


def test_it_marks_inline_files_with_their_name(blob: Path) -> None:
    response = range_response({}, io.BytesIO(DATA), SIZE, "image/png", filename="logo.png")
    assert response["Content-Disposition"] == 'inline; filename="logo.png"'
    assert "Content-Disposition" not in range_response({}, blob, SIZE, "image/png")
