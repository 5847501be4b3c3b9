"""The one storage layer of media files: django-storages' default storage (local folder or S3).

Decisions:
* Keys are content-addressed (``ws<id>/<sha[:2]>/<sha>.<ext>``, see models.asset_upload_to), so the
  same bytes are stored once per workspace and a key's content never changes.
* Local writes go to a temp name in the target folder, are fsynced, then renamed: a reader never
  sees a partial file under a final name.  An S3 PUT (single or multipart) is atomic by protocol:
  the key does not exist until the whole object is complete, so objects are written straight to
  their final key.
* Private S3 objects are served by short-lived signed URLs (AWS_QUERYSTRING_EXPIRE); local files by
  the streaming view, or by a signed token URL for API clients.
* Uploads land on disk (never wholly in memory) in MEDIA_TEMP_DIR through
  ``CappedUploadHandler``, which also stops a body over MEDIA_MAX_UPLOAD_BYTES while it streams.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

TEMP_PREFIX = "ms-"  # every temp file this app makes starts with it (the cleanup looks for it)


def media_storage() -> Storage:
    """The storage assets live in (follows STORAGES["default"], overrides included)."""
    return default_storage


def media_temp_dir() -> Path:
    """Where uploads and work files wait before they are stored; swept by the retention cleanup."""
    configured = getattr(settings, "MEDIA_TEMP_DIR", None)
    path = Path(configured) if configured else Path(settings.VAR_DIR) / "tmp" / "media"
    path.mkdir(parents=True, exist_ok=True)
    return path


def temp_path(suffix: str = "") -> Path:
    """A fresh, not yet existing path in the media temp dir."""
    return media_temp_dir() / f"{TEMP_PREFIX}{uuid.uuid4().hex}{suffix}"


def local_path(name: str, *, storage: Storage | None = None) -> Path | None:
    """The filesystem path of a stored key, or None for remote storages (S3)."""
    storage = storage or media_storage()
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        return None


def is_remote(storage: Storage | None = None) -> bool:
    return local_path("probe", storage=storage) is None


def storage_put(*, src: str | os.PathLike[str], name: str, storage: Storage | None = None) -> bool:
    """Store the local file ``src`` under exactly ``name``, atomically.

    Returns True when this call created the object, False when an object already existed under the
    name (content addressing: same key, same bytes).  The caller deletes the object on a later
    failure only if it created it.
    """
    storage = storage or media_storage()
    if storage.exists(name):
        return False
    target = local_path(name, storage=storage)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{TEMP_PREFIX}{uuid.uuid4().hex}.part")
        try:
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
                fout.flush()
                os.fsync(fout.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return True
    with open(src, "rb") as fh:
        saved = storage.save(name, File(fh, name=os.path.basename(name)))
    if saved != name:
        # Another writer created the key between exists() and save(): keep theirs, drop our copy.
        storage.delete(saved)
        return False
    return True


def storage_delete(names: list[str] | tuple[str, ...], *, storage: Storage | None = None) -> None:
    storage = storage or media_storage()
    for name in names:
        if name:
            storage.delete(name)


def storage_fetch_to_temp(name: str, *, suffix: str = "", storage: Storage | None = None) -> tuple[Path, bool]:
    """A local path holding the object's bytes: the file itself for local storage, else a temp copy.

    Returns (path, is_temp); the caller unlinks a temp copy.
    """
    storage = storage or media_storage()
    direct = local_path(name, storage=storage)
    if direct is not None:
        return direct, False
    dest = temp_path(suffix)
    with storage.open(name, "rb") as fin, open(dest, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    return dest, True


def signed_url(
    name: str, *, expire: int | None = None, content_type: str = "", disposition: str = "", storage: Storage | None = None
) -> str:
    """A short-lived URL of a private remote object (S3 presigned GET) with response headers pinned."""
    storage = storage or media_storage()
    params: dict[str, Any] = {}
    if content_type:
        params["ResponseContentType"] = content_type
    if disposition:
        params["ResponseContentDisposition"] = disposition
    expire = expire or int(getattr(storage, "querystring_expire", None) or getattr(settings, "AWS_QUERYSTRING_EXPIRE", 600))
    return storage.url(name, parameters=params or None, expire=expire)  # type: ignore[call-arg]


# ---------------------------------------------------------------------------- uploads


class DiskUploadedFile(UploadedFile):
    """An upload streamed into the media temp dir (deleted when closed)."""

    def __init__(self, name: str, content_type: str, size: int, charset: str | None, content_type_extra: Any = None):
        file: IO[bytes] = tempfile.NamedTemporaryFile(prefix=TEMP_PREFIX + "upload-", suffix=".part", dir=media_temp_dir())
        super().__init__(file, name, content_type, size, charset, content_type_extra)

    def temporary_file_path(self) -> str:
        return self.file.name

    def close(self) -> None:
        try:
            self.file.close()
        except FileNotFoundError:
            pass


class CappedUploadHandler(FileUploadHandler):
    """Write every uploaded file to disk; stop the upload as soon as one passes the byte cap.

    ``refused`` holds the user-facing reason when the cap stopped the upload.
    """

    def __init__(self, request: Any = None, *, max_bytes: int | None = None) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes or int(getattr(settings, "MEDIA_MAX_UPLOAD_BYTES", 2 * 1024**3))
        self.refused: str = ""
        self._received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._received = 0
        self.file = DiskUploadedFile(self.file_name, self.content_type, 0, self.charset, self.content_type_extra)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._received += len(raw_data)
        if self._received > self.max_bytes:
            self.file.close()
            mib = self.max_bytes / 1024**2
            self.refused = f"{self.file_name}: the file is larger than the {mib:,.0f} MiB upload limit."
            raise StopUpload(connection_reset=False)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile:
        self.file.seek(0)
        self.file.size = file_size
        return self.file


def install_upload_handler(request: Any) -> CappedUploadHandler:
    """Make ``request`` stream its files to disk under the cap (call before reading POST/FILES)."""
    handler = CappedUploadHandler(request)
    request.upload_handlers = [handler]
    return handler
