"""The storage layer: atomic, content-addressed writes and the capped on-disk upload handler."""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadhandler import StopUpload
from django.test import RequestFactory

from media_assets.storage import CappedUploadHandler, DiskUploadedFile, media_storage, storage_fetch_to_temp, storage_put


def test_it_writes_atomically_and_leaves_no_temp_file(tmp_path, media_root):
    src = tmp_path / "src.bin"
    src.write_bytes(b"x" * 100_000)
    assert storage_put(src=src, name="ws1/ab/abc.bin") is True
    assert (media_root / "ws1/ab/abc.bin").read_bytes() == src.read_bytes()
    assert [p.name for p in (media_root / "ws1/ab").iterdir()] == ["abc.bin"]
    assert storage_put(src=src, name="ws1/ab/abc.bin") is False  # content addressed: already there


def test_a_failed_write_leaves_neither_a_partial_nor_a_final_file(tmp_path, media_root, monkeypatch):
    src = tmp_path / "src.bin"
    src.write_bytes(b"y" * 10_000)

    def crash(*args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr("media_assets.storage.os.replace", crash)
    with pytest.raises(OSError):
        storage_put(src=src, name="ws1/cd/cde.bin")
    assert not any(p.is_file() for p in media_root.rglob("*"))


def test_local_storage_is_read_in_place(tmp_path, media_root):
    src = tmp_path / "a.bin"
    src.write_bytes(b"abc")
    storage_put(src=src, name="ws2/aa/a.bin")
    path, is_temp = storage_fetch_to_temp("ws2/aa/a.bin")
    assert path == media_root / "ws2/aa/a.bin" and is_temp is False
    assert media_storage().exists("ws2/aa/a.bin")


def test_the_upload_handler_streams_to_disk_and_stops_past_the_cap(settings, tmp_path):
    request = RequestFactory().post("/")
    handler = CappedUploadHandler(request, max_bytes=1000)
    handler.new_file("file", "big.mp4", "video/mp4", 0)
    assert isinstance(handler.file, DiskUploadedFile)
    disk_path = handler.file.temporary_file_path()
    assert disk_path.startswith(str(settings.MEDIA_TEMP_DIR))
    handler.receive_data_chunk(b"a" * 600, 0)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"a" * 600, 600)
    assert "upload limit" in handler.refused
    assert not os.path.exists(disk_path)  # the partial upload is gone


def test_the_upload_handler_keeps_a_file_under_the_cap(settings):
    handler = CappedUploadHandler(RequestFactory().post("/"), max_bytes=1000)
    handler.new_file("file", "ok.mp3", "audio/mpeg", 0)
    handler.receive_data_chunk(b"b" * 500, 0)
    uploaded = handler.file_complete(500)
    assert uploaded.size == 500 and uploaded.read() == b"b" * 500
    path = uploaded.temporary_file_path()
    uploaded.close()
    assert not os.path.exists(path)
