"""Writes of the media library: storing validated media, previews, ingest, links, delete, retention.

The contract every producer of media relies on (generation, audio, the editor):
``asset_create_from_file`` validates by content, stores the bytes once per workspace under their
sha256, and either returns a committed row pointing at a complete object or raises leaving neither
an object nor a row behind.  A row is created only after its object is complete; if the row cannot
be committed the object this call wrote is deleted.  An object left by a crash in between (or by an
outer transaction rolled back after this call) has no row and is removed by the retention cleanup
once older than MEDIA_ORPHAN_GRACE_HOURS.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from media_assets import selectors
from media_assets.inspector import inspect_media
from media_assets.models import MediaAsset, asset_upload_to, preview_upload_to
from media_assets.previews import PreviewError, make_poster, make_scrub_strip, make_thumbnail, make_waveform
from media_assets.probe import ProbeResult, render_facts
from media_assets.render.graph import HDR_TRANSFERS
from media_assets.storage import (
    TEMP_PREFIX,
    is_remote,
    media_storage,
    media_temp_dir,
    signed_url,
    storage_delete,
    storage_fetch_to_temp,
    storage_put,
    temp_path,
)
from media_assets.validation import MediaLimits, MediaRejected, ValidatedMedia, measure_loudness, sha256_file, validate_media_file
from mediastudio.lib.exceptions import ApplicationError, Conflict

logger = logging.getLogger(__name__)

SUBTITLE_EXTS = {"srt": "application/x-subrip", "vtt": "text/vtt", "ass": "text/x-ssa"}
PREVIEW_FIELDS = ("poster", "thumbnail", "scrub_strip", "waveform")
STREAM_SALT = "media_assets.stream"


class AssetInUse(Conflict):
    code = "asset_in_use"


# ---------------------------------------------------------------------------- settings


def media_limits() -> MediaLimits:
    """The caps of settings.MEDIA_MAX_* as MediaLimits."""
    side = int(getattr(settings, "MEDIA_MAX_DIMENSION", 4096))
    return MediaLimits(
        max_bytes=int(getattr(settings, "MEDIA_MAX_UPLOAD_BYTES", 2 * 1024**3)),
        max_duration=float(getattr(settings, "MEDIA_MAX_DURATION_SECONDS", 600)),
        max_width=side,
        max_height=side,
        max_fps=float(getattr(settings, "MEDIA_MAX_FPS", 120)),
        max_pixels=int(getattr(settings, "MEDIA_MAX_IMAGE_PIXELS", 40_000_000)),
    )


def _validate(src: str | os.PathLike[str], *, declared_name: str, **kwargs: Any) -> ValidatedMedia:
    """validate_media_file, with the server's own file paths taken out of any refusal message
    (ffmpeg's last stderr line names its input; users see the message)."""
    try:
        return validate_media_file(src, limits=media_limits(), declared_name=declared_name, **kwargs)
    except MediaRejected as exc:
        message = exc.message
        for path in (Path(os.fspath(src)), Path(os.fspath(kwargs.get("cleaned_image_path") or src))):
            message = re.sub(r"(?:file:)?\S*" + re.escape(path.name), declared_name or "the file", message)
        raise MediaRejected(exc.reason_code, message) from exc


def _sync_preview_ok(validated: ValidatedMedia) -> bool:
    max_bytes = int(getattr(settings, "MEDIA_SYNC_PREVIEW_MAX_BYTES", 50 * 1024**2))
    max_seconds = float(getattr(settings, "MEDIA_SYNC_PREVIEW_MAX_SECONDS", 60))
    return validated.size <= max_bytes and (validated.duration or 0) <= max_seconds


# ---------------------------------------------------------------------------- create


def asset_create_from_file(
    *,
    workspace: Any,
    path: str | os.PathLike[str],
    source: str,
    kind: str | None = None,
    campaign: Any = None,
    element: Any = None,
    title: str = "",
    original_name: str = "",
    user: Any = None,
    metadata: dict[str, Any] | None = None,
    make_previews: bool = True,
    previews: Mapping[str, Path] | None = None,
) -> MediaAsset:
    """Store the local file ``path`` as an asset of ``workspace`` and return its row.

    Validates by content (MediaRejected on refusal; ``kind``, when given, must match what the bytes
    are), stores content-addressed (the same bytes already in the workspace return the existing
    row, unchanged), never leaves an object without a row or a row without a complete object.
    With ``make_previews`` the previews are made now for small files, else by an ingest job
    (the row's status is then "ingesting" until it finishes).  ``path`` is not consumed.
    ``previews``: pictures already made from the same frames (a render's poster and scrub strip, by
    preview name); they are stored instead of being made again, and the rest is then quick enough
    to be made now whatever the file's size.
    """
    _check_links(workspace=workspace, campaign=campaign, element=element)
    if source not in MediaAsset.Source.values:
        raise ValueError(f"Unknown asset source {source!r}.")
    name = original_name or os.path.basename(os.fspath(path))
    if kind == MediaAsset.Kind.SUBTITLE:
        validated = _validate_subtitle(Path(os.fspath(path)), declared_name=name)
        cleaned = None
    else:
        cleaned = temp_path(".img")
        try:
            validated = _validate(path, declared_name=name, cleaned_image_path=cleaned)
        except BaseException:
            cleaned.unlink(missing_ok=True)
            raise
        if kind and kind != validated.kind:
            cleaned.unlink(missing_ok=True)
            raise MediaRejected("kind_mismatch", f"The file is {validated.kind}, not {kind}.")
    try:
        sync_previews = make_previews and (bool(previews) or _sync_preview_ok(validated))
        asset, created = _store(
            workspace=workspace,
            validated=validated,
            source=source,
            campaign=campaign,
            element=element,
            title=title,
            original_name=name,
            user=user,
            metadata=metadata,
            reencoded=validated.kind == "image" or source == MediaAsset.Source.RENDERED,
            status=MediaAsset.Status.INGESTING if (make_previews and not sync_previews) else MediaAsset.Status.READY,
        )
    finally:
        if cleaned is not None:
            cleaned.unlink(missing_ok=True)
    if created and make_previews:
        if sync_previews:
            asset_make_previews(asset=asset, premade=previews)
        else:
            _start_ingest_job(asset=asset, user=user)
    return asset


@dataclass(frozen=True)
class UploadResult:
    """What asset_ingest_upload did: stored a new asset, or found the same bytes already in the
    workspace (``created`` False) and added the upload's tags and links to it, as ``note`` says."""

    asset: MediaAsset
    created: bool
    note: str = ""


def asset_ingest_upload(
    *, workspace: Any, uploaded_file: Any, user: Any, campaign: Any = None, element: Any = None, tags: Iterable[str] = ()
) -> UploadResult:
    """Store an uploaded file (a Django UploadedFile) and start its ingest job.

    The upload is validated from disk (a file held in memory is first streamed to a temp file);
    a refusal raises MediaRejected and leaves no file and no row.  Loudness and previews are made
    by the ingest job, whose progress the Library shows live.  A file named ``.srt``, ``.vtt`` or
    ``.ass`` is a caption track: checked as UTF-8 subtitles of that kind, stored ready (it has no
    previews), with no ingest job.  The same bytes already in the workspace are not stored again:
    that asset gets the upload's tags, and its campaign and element where it had none (it is never
    moved from one campaign or element to another).
    """
    _check_links(workspace=workspace, campaign=campaign, element=element)
    tags = _clean_tags(tags)
    declared = os.path.basename(getattr(uploaded_file, "name", "") or "upload")[:255]
    copied: Path | None = None
    if hasattr(uploaded_file, "temporary_file_path"):
        src = Path(uploaded_file.temporary_file_path())
    else:
        copied = temp_path(".upload")
        with open(copied, "wb") as out:
            for chunk in uploaded_file.chunks():
                out.write(chunk)
        src = copied
    subtitle = os.path.splitext(declared)[1].lower().lstrip(".") in SUBTITLE_EXTS
    cleaned = temp_path(".img")
    try:
        if subtitle:
            validated = _validate_subtitle(src, declared_name=declared)
        else:
            validated = _validate(src, declared_name=declared, cleaned_image_path=cleaned, measure_audio_loudness=False)
        asset, created = _store(
            workspace=workspace,
            validated=validated,
            source=MediaAsset.Source.UPLOADED,
            campaign=campaign,
            element=element,
            title=os.path.splitext(declared)[0][:200],
            original_name=declared,
            user=user,
            metadata={},
            reencoded=validated.kind == "image",
            status=MediaAsset.Status.READY if subtitle else MediaAsset.Status.INGESTING,
            tags=tags,
        )
    finally:
        cleaned.unlink(missing_ok=True)
        if copied is not None:
            copied.unlink(missing_ok=True)
    if not created:
        return _merge_into_duplicate(asset=asset, tags=tags, campaign=campaign, element=element)
    if not subtitle:
        _start_ingest_job(asset=asset, user=user)
    return UploadResult(asset=asset, created=True)


def _merge_into_duplicate(*, asset: MediaAsset, tags: list[str], campaign: Any, element: Any) -> UploadResult:
    with transaction.atomic():
        locked = MediaAsset.objects.select_for_update().get(pk=asset.pk)  # no select_related: PostgreSQL locks no outer join
        said: list[str] = []
        fields = ["updated_at"]
        merged = _clean_tags([*locked.tags, *tags])
        added = [tag for tag in merged if tag not in locked.tags]
        if added:
            said.append(f"added the tag{'s' if len(added) > 1 else ''} {', '.join(added)}")
            locked.tags = merged
            fields.append("tags")
        for name, wanted in (("campaign", campaign), ("element", element)):
            current = getattr(locked, name)
            if wanted is None or current == wanted:
                continue
            if current is None:
                setattr(locked, name, wanted)
                fields.append(name)
                said.append(f"linked to the {name} \"{wanted}\"")
            else:
                said.append(f"kept in the {name} \"{current}\", not moved to \"{wanted}\"")
        if len(fields) > 1:
            locked.save(update_fields=fields)
    note = "Already in the library" + (": " + "; ".join(said) if said else "") + "."
    return UploadResult(asset=locked, created=False, note=note)


def _store(
    *,
    workspace: Any,
    validated: ValidatedMedia,
    source: str,
    campaign: Any,
    element: Any,
    title: str,
    original_name: str,
    user: Any,
    metadata: dict[str, Any] | None,
    reencoded: bool,
    status: str,
    tags: list[str] | None = None,
) -> tuple[MediaAsset, bool]:
    existing = selectors.asset_by_sha(workspace=workspace, sha256=validated.sha256)
    if existing is not None:
        return existing, False
    probe = validated.probe
    asset = MediaAsset(
        workspace=workspace,
        campaign=campaign,
        element=element,
        kind=validated.kind,
        source=source,
        title=(title or "")[:200],
        original_name=(original_name or "")[:255],
        sha256=validated.sha256,
        size=validated.size,
        mime=validated.mime,
        duration=validated.duration,
        width=validated.width,
        height=validated.height,
        fps=validated.fps,
        video_codec=validated.video_codec or "",
        audio_codec=validated.audio_codec or "",
        bitrate=validated.bitrate,
        audio_channels=validated.audio_channels,
        loudness_lufs=validated.loudness_lufs,
        status=status,
        reencoded=reencoded,
        tags=tags or [],
        metadata={
            **(metadata or {}),
            "format": validated.format_name,
            "sample_rate": validated.sample_rate,
            "rotation": validated.rotation,
            **(_probe_metadata(probe) if probe is not None else {}),
        },
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    name = asset_upload_to(asset, f"x.{validated.ext}")
    created_object = storage_put(src=validated.path, name=name)
    try:
        with transaction.atomic():
            asset.file.name = name
            _asset_row_create(asset)
    except IntegrityError:
        # A concurrent ingest of the same bytes won the unique (workspace, sha256): the key is theirs.
        winner = selectors.asset_by_sha(workspace=workspace, sha256=validated.sha256)
        if winner is not None:
            return winner, False
        if created_object:
            storage_delete([name])
        raise
    except BaseException:
        if created_object:
            storage_delete([name])
        raise
    return asset, True


def _probe_metadata(probe: ProbeResult) -> dict[str, Any]:
    """What an asset keeps in its metadata of its file's probe: rotation, sound, the HDR transfer, and
    what a render takes instead of probing the file again (``render_source``)."""
    facts = render_facts(probe)
    return {"rotation": probe.rotation, "has_audio": probe.has_audio,
            **({"color_transfer": probe.color_transfer} if probe.color_transfer else {}),
            **({"render_source": facts} if facts else {})}


def _asset_row_create(asset: MediaAsset) -> None:
    # The last step before the row commits (tests inject faults here).
    asset.save(force_insert=True)


def _validate_subtitle(path: Path, *, declared_name: str) -> ValidatedMedia:
    max_bytes = int(getattr(settings, "MEDIA_MAX_SUBTITLE_BYTES", 5 * 1024**2))
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected("empty", "The file is empty.")
    if size > max_bytes:
        raise MediaRejected("too_big", "The subtitle file is too large.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MediaRejected("not_text", "A subtitle file must be UTF-8 text.") from exc
    head = text.lstrip()[:200]
    if head.startswith("WEBVTT"):
        ext = "vtt"
    elif head.startswith("[Script Info]"):
        ext = "ass"
    elif re.match(r"\d+\s*\n\s*\d\d:\d\d:\d\d[,.]\d{3}\s*-->", head):
        ext = "srt"
    else:
        raise MediaRejected("unknown_format", "Subtitles must be SRT, WebVTT or ASS.")
    return ValidatedMedia(
        kind="subtitle", mime=SUBTITLE_EXTS[ext], ext=ext, path=path, sha256=sha256_file(path), size=size,
        format_name=ext, declared_name=declared_name,
    )


def _check_links(*, workspace: Any, campaign: Any, element: Any) -> None:
    if campaign is not None and campaign.workspace_id != workspace.pk:
        raise ApplicationError("The campaign belongs to another workspace.", extra={"fields": {"campaign": ["No such campaign."]}})
    if element is not None and element.universe.workspace_id != workspace.pk:
        raise ApplicationError("The element belongs to another workspace.", extra={"fields": {"element": ["No such element."]}})


def _clean_tags(tags: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for raw in tags:
        for part in str(raw).split(","):
            tag = re.sub(r"\s+", " ", part).strip().lower()[:40]
            if tag and tag not in seen:
                seen.append(tag)
    return seen[:30]


# ---------------------------------------------------------------------------- previews and ingest

Progress = Callable[[int, str], None]


def asset_make_previews(*, asset: MediaAsset, progress: Progress | None = None, measure: bool = False,
                        premade: Mapping[str, Path] | None = None) -> MediaAsset:
    """Make the previews (and with ``measure`` the loudness) of ``asset`` and mark it ready.
    ``premade``: previews already made, by name ("poster", "scrub_strip"), used as they are.

    A preview that cannot be made is recorded in ``preview_error``; the asset stays usable.
    Storage or database failures propagate (the ingest job records them).
    """
    report = progress or (lambda percent, message: None)
    ext = asset.file.name.rsplit(".", 1)[-1]
    src, is_temp = storage_fetch_to_temp(asset.file.name, suffix=f".{ext}")
    workdir = temp_path(".d")
    workdir.mkdir()
    premade = premade or {}
    made: dict[str, Path] = {}
    errors: list[str] = []
    updates: dict[str, Any] = {}
    has_audio = bool(asset.audio_codec) or asset.kind == MediaAsset.Kind.AUDIO

    def attempt(label: str, fn: Callable[[], Path]) -> None:
        if label in premade:
            made[label] = premade[label]
            return
        try:
            made[label] = fn()
        except PreviewError as exc:
            errors.append(f"{label.replace('_', ' ').capitalize()}: {exc}")

    try:
        if measure and has_audio and asset.loudness_lufs is None:
            report(10, "Measuring loudness")
            updates["loudness_lufs"] = measure_loudness(src, timeout=media_limits().decode_timeout)
        if asset.kind == MediaAsset.Kind.VIDEO:
            # The row holds the validated duration: no probe per preview. The thumbnail is the
            # poster made smaller (Pillow), not a second decode.
            report(30, "Making the poster")
            transfer = asset.metadata.get("color_transfer")  # HDR previews are tone-mapped like renders
            attempt("poster", lambda: make_poster(src, workdir / "poster.jpg", duration=asset.duration,
                                                  transfer=transfer))
            report(45, "Making the thumbnail")
            attempt("thumbnail", lambda: make_thumbnail(made.get("poster", src), workdir / "thumbnail.jpg"))
            report(60, "Making the scrub strip")
            attempt("scrub_strip", lambda: make_scrub_strip(src, workdir / "scrub.jpg", duration=asset.duration,
                                                            transfer=transfer))
            if has_audio:
                report(75, "Drawing the waveform")
                attempt("waveform", lambda: make_waveform(src, workdir / "waveform.png"))
        elif asset.kind == MediaAsset.Kind.AUDIO:
            report(50, "Drawing the waveform")
            attempt("waveform", lambda: make_waveform(src, workdir / "waveform.png"))
        elif asset.kind == MediaAsset.Kind.IMAGE:
            report(50, "Making the thumbnail")
            attempt("thumbnail", lambda: make_thumbnail(src, workdir / "thumbnail.jpg"))
        report(90, "Saving previews")
        stored: list[str] = []
        try:
            for label, path in made.items():
                name = preview_upload_to(asset, path.name)
                storage_delete([name])  # a re-run replaces the previous preview
                storage_put(src=path, name=name)
                stored.append(name)
                updates[label] = name
            updates["preview_error"] = "\n".join(errors)
            updates["status"] = MediaAsset.Status.READY
            updates["updated_at"] = timezone.now()
            with transaction.atomic():
                MediaAsset.objects.filter(pk=asset.pk).update(**updates)
        except BaseException:
            storage_delete(stored)
            raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if is_temp:
            src.unlink(missing_ok=True)
    asset.refresh_from_db()
    return asset


def asset_refresh_facts(*, asset: MediaAsset) -> list[str]:
    """Re-read what the studio keeps of a stored video from its file (through the inspector, as an
    upload does), for files stored before it kept it: the size as shown (turned, square pixels),
    the HDR transfer, the facts a render takes instead of probing (``render_source``). Previews
    made before an HDR video's were tone-mapped are made again. Returns what changed."""
    if asset.kind != MediaAsset.Kind.VIDEO or not asset.file:
        return []
    src, is_temp = storage_fetch_to_temp(asset.file.name, suffix=f".{asset.file.name.rsplit('.', 1)[-1]}")
    try:
        info, _ = inspect_media(src, timeout=media_limits().decode_timeout)
    finally:
        if is_temp:
            src.unlink(missing_ok=True)
    width, height = info.display_size
    metadata = dict(asset.metadata or {})
    known = _probe_metadata(info)
    changed = [key for key, value in known.items() if metadata.get(key) != value]
    if (asset.width, asset.height) != (width, height):
        changed.append("size")
    if not changed:
        return []
    hdr_unmapped = info.color_transfer in HDR_TRANSFERS and metadata.get("color_transfer") != info.color_transfer
    metadata.update(known)
    MediaAsset.objects.filter(pk=asset.pk).update(width=width, height=height, metadata=metadata, updated_at=timezone.now())
    asset.refresh_from_db()
    if hdr_unmapped and asset.status == MediaAsset.Status.READY:
        asset_make_previews(asset=asset)  # they were made from the picture read as SDR: flat and dim
        changed.append("previews")
    return changed


def media_refresh_facts(*, progress: Callable[[int, int], None] | None = None) -> dict[int, list[str]]:
    """:func:`asset_refresh_facts` for every stored video; returns what changed, by asset id. A
    file that cannot be read is logged and skipped (its asset keeps what it had)."""
    ids = list(MediaAsset.objects.filter(kind=MediaAsset.Kind.VIDEO).exclude(file="").order_by("pk")
               .values_list("pk", flat=True))
    changed: dict[int, list[str]] = {}
    for done, pk in enumerate(ids, start=1):
        asset = MediaAsset.objects.filter(pk=pk).first()
        try:
            what = asset_refresh_facts(asset=asset) if asset is not None else []
        except Exception:  # one unreadable or missing file must not stop the others
            logger.exception("media_refresh_facts: asset %s could not be read", pk)
            what = []
        if what:
            changed[pk] = what
        if progress is not None:
            progress(done, len(ids))
    return changed


def _start_ingest_job(*, asset: MediaAsset, user: Any) -> None:
    from mediastudio.jobs.models import Job
    from mediastudio.jobs.services import job_create

    with transaction.atomic():
        job = job_create(
            workspace=asset.workspace,
            kind=Job.Kind.INGEST,
            task="media_assets.tasks.ingest_run",
            finalizer="media_assets.tasks.ingest_finalize",
            params={"asset_id": asset.pk},
            title=f"Ingest {asset.display_name}"[:200],
            campaign=asset.campaign,
            user=user,
        )
        MediaAsset.objects.filter(pk=asset.pk).update(ingest_job=job, status=MediaAsset.Status.INGESTING)
    asset.ingest_job = job
    asset.status = MediaAsset.Status.INGESTING


def asset_ingest(*, asset: MediaAsset, progress: Progress | None = None) -> dict[str, Any]:
    """The ingest job's work: loudness, poster, thumbnail, scrub strip, waveform."""
    done = asset_make_previews(asset=asset, progress=progress, measure=True)
    return {
        "asset_id": done.pk,
        "previews": [f for f in PREVIEW_FIELDS if getattr(done, f)],
        "loudness_lufs": done.loudness_lufs,
        "preview_error": done.preview_error,
    }


def asset_ingest_failed(*, asset_id: Any, reason: str) -> None:
    MediaAsset.objects.filter(pk=asset_id, status=MediaAsset.Status.INGESTING).update(
        status=MediaAsset.Status.FAILED, preview_error=reason[:2000], updated_at=timezone.now()
    )


# ---------------------------------------------------------------------------- edit and delete


def asset_update(
    *,
    asset: MediaAsset,
    title: str | None = None,
    tags: Iterable[str] | None = None,
    campaign: Any = ...,
    element: Any = ...,
) -> MediaAsset:
    """Change the title, tags and campaign/element links (``...`` = leave unchanged, None = unlink)."""
    fields = ["updated_at"]
    if title is not None:
        asset.title = title[:200]
        fields.append("title")
    if tags is not None:
        asset.tags = _clean_tags(tags)
        fields.append("tags")
    if campaign is not ...:
        _check_links(workspace=asset.workspace, campaign=campaign, element=None)
        asset.campaign = campaign
        fields.append("campaign")
    if element is not ...:
        _check_links(workspace=asset.workspace, campaign=None, element=element)
        asset.element = element
        fields.append("element")
    asset.save(update_fields=fields)
    return asset


def asset_delete(*, asset: MediaAsset) -> None:
    """Delete the row, then (after commit) its objects. AssetInUse (409) while anything uses it."""
    with transaction.atomic():
        locked = MediaAsset.objects.select_for_update().filter(pk=asset.pk).first()
        if locked is None:
            return
        references = selectors.asset_references(asset=locked, limit=5)
        if references:
            listed = "; ".join(r.label for r in references[:5])
            raise AssetInUse(
                f"This asset is still used by: {listed}. Remove it there first.",
                extra={"references": [{"model": r.model, "id": r.pk, "label": r.label} for r in references]},
            )
        names = locked.stored_names
        locked.delete()
        transaction.on_commit(lambda: storage_delete(names))


# ---------------------------------------------------------------------------- streaming URLs

VARIANTS = ("file", *PREVIEW_FIELDS)


def asset_variant_name(*, asset: MediaAsset, variant: str) -> str:
    if variant not in VARIANTS:
        return ""
    return getattr(asset, variant).name or ""


def asset_download_name(*, asset: MediaAsset, variant: str = "file") -> str:
    """The name a download is saved under: the title (as renamed) or else the original name, with
    the extension of the stored content, not the upload's.  Quotes, slashes and control characters
    become "_"; other letters stay (Content-Disposition sends a non-ASCII name as filename*=)."""
    name = asset_variant_name(asset=asset, variant=variant)
    ext = name.rsplit(".", 1)[-1] if "." in name else "bin"
    stem = asset.title.strip() or os.path.splitext(asset.original_name)[0]
    if stem.lower().endswith(f".{ext}"):  # a title typed with its extension
        stem = stem[: -len(ext) - 1]
    stem = re.sub(r'[\x00-\x1f\x7f"\\/:*?<>|]+', "_", stem)
    stem = " ".join(stem.split()).strip(" .")[:150] or str(asset.uuid)
    return f"{stem}{'' if variant == 'file' else '-' + variant.replace('_', '-')}.{ext}"


def asset_serves_inline(*, asset: MediaAsset, variant: str) -> bool:
    # Previews are always ours; the file only when the studio wrote its bytes.
    return variant != "file" or asset.reencoded


def asset_content_type(*, asset: MediaAsset, variant: str) -> str:
    if variant == "file":
        return asset.mime or "application/octet-stream"
    return "image/png" if variant == "waveform" else "image/jpeg"


def stream_url_lifetime() -> int:
    """Seconds a URL from asset_stream_url stays valid: the storage's signing expiry on S3
    (AWS_QUERYSTRING_EXPIRE), MEDIA_STREAM_URL_EXPIRE for local tokens."""
    if is_remote():
        storage = media_storage()
        return int(getattr(storage, "querystring_expire", None) or getattr(settings, "AWS_QUERYSTRING_EXPIRE", 600))
    return int(getattr(settings, "MEDIA_STREAM_URL_EXPIRE", 600))


def asset_stream_url(*, asset: MediaAsset, variant: str = "file", expire: int | None = None) -> str:
    """A short-lived URL anyone holding it can fetch: an S3 presigned URL, or the streaming view
    with a signed token (local storage)."""
    expire = expire or stream_url_lifetime()
    name = asset_variant_name(asset=asset, variant=variant)
    if not name:
        raise ApplicationError(f"This asset has no {variant.replace('_', ' ')}.", code="not_found", status_code=404)
    if is_remote():
        disposition = content_disposition_header(
            not asset_serves_inline(asset=asset, variant=variant), asset_download_name(asset=asset, variant=variant)
        )
        return signed_url(name, expire=expire, content_type=asset_content_type(asset=asset, variant=variant), disposition=disposition or "")
    token = signing.dumps({"a": asset.pk, "v": variant, "e": expire}, salt=STREAM_SALT, compress=True)
    if variant == "file":
        path = reverse("media_assets:asset-file", kwargs={"pk": asset.pk})
    else:
        path = reverse("media_assets:asset-preview", kwargs={"pk": asset.pk, "variant": variant})
    return f"{path}?token={token}"


def stream_token_allows(*, token: str, asset_pk: int, variant: str) -> bool:
    """True when ``token`` (from asset_stream_url) grants ``variant`` of asset ``asset_pk`` now."""
    try:
        data = signing.loads(token, salt=STREAM_SALT)
        signing.loads(token, salt=STREAM_SALT, max_age=min(int(data.get("e", 0)), 86400))
    except (signing.BadSignature, TypeError, ValueError, AttributeError):
        return False
    return data.get("a") == asset_pk and data.get("v") == variant


# ---------------------------------------------------------------------------- retention


@dataclass
class CleanupReport:
    temp_files: list[str] = field(default_factory=list)
    orphan_objects: list[str] = field(default_factory=list)
    expired_assets: list[int] = field(default_factory=list)
    kept_referenced: int = 0
    bytes_freed: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        return (
            f"{verb} {len(self.temp_files)} temp file(s), {len(self.orphan_objects)} orphaned object(s), "
            f"{len(self.expired_assets)} expired generated asset(s) ({self.bytes_freed / 1024**2:.1f} MiB); "
            f"kept {self.kept_referenced} expired asset(s) still in use"
        )


CleanupProgress = Callable[[str, int, int], None]  # (stage, done, total)
_WS_DIR = re.compile(r"^ws\d+$")
EXPIRING_SOURCES = (MediaAsset.Source.GENERATED, MediaAsset.Source.RENDERED)


def media_cleanup(*, now: dt.datetime | None = None, dry_run: bool = False, progress: CleanupProgress | None = None) -> CleanupReport:
    """Remove old temp files, stored objects no row owns, and generated or rendered assets older
    than MEDIA_RETENTION_DAYS that nothing references (nor tagged "keep").  Never deletes a
    referenced asset: each is re-checked inside the transaction that deletes it."""
    now = now or timezone.now()
    report = CleanupReport(dry_run=dry_run)
    tick = progress or (lambda stage, done, total: None)
    _cleanup_temp(now=now, report=report, tick=tick)
    _cleanup_orphans(now=now, report=report, tick=tick)
    _cleanup_expired(now=now, report=report, tick=tick)
    return report


def _cleanup_temp(*, now: dt.datetime, report: CleanupReport, tick: CleanupProgress) -> None:
    max_age = float(getattr(settings, "MEDIA_TEMP_MAX_AGE_HOURS", 6)) * 3600
    entries = [p for p in media_temp_dir().iterdir() if p.name.startswith(TEMP_PREFIX)]
    for i, entry in enumerate(entries, 1):
        try:
            stat = entry.stat()
        except FileNotFoundError:
            continue
        if now.timestamp() - stat.st_mtime > max_age:
            report.temp_files.append(str(entry))
            report.bytes_freed += stat.st_size if entry.is_file() else 0
            if not report.dry_run:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
        tick("temp files", i, len(entries))


def _walk(storage: Any, prefix: str) -> Iterable[str]:
    dirs, files = storage.listdir(prefix)
    for name in files:
        yield f"{prefix}/{name}"
    for sub in dirs:
        yield from _walk(storage, f"{prefix}/{sub}")


def _cleanup_orphans(*, now: dt.datetime, report: CleanupReport, tick: CleanupProgress) -> None:
    storage = media_storage()
    grace = dt.timedelta(hours=float(getattr(settings, "MEDIA_ORPHAN_GRACE_HOURS", 24)))
    try:
        top_dirs, _ = storage.listdir("")
    except FileNotFoundError:
        return
    workspaces = [d for d in top_dirs if _WS_DIR.match(d)]
    for i, ws_dir in enumerate(workspaces, 1):
        owned: set[str] = set()
        rows = MediaAsset.objects.filter(workspace_id=int(ws_dir[2:]))
        for values in rows.values_list("file", *PREVIEW_FIELDS):
            owned.update(v for v in values if v)
        for name in _walk(storage, ws_dir):
            if name in owned:
                continue
            try:
                modified = storage.get_modified_time(name)
                size = storage.size(name)
            except (FileNotFoundError, OSError):
                continue
            if now - modified < grace:
                continue  # may belong to an ingest still on its way to commit
            report.orphan_objects.append(name)
            report.bytes_freed += size
            if not report.dry_run:
                storage.delete(name)
        tick("orphaned objects", i, len(workspaces))


def _cleanup_expired(*, now: dt.datetime, report: CleanupReport, tick: CleanupProgress) -> None:
    days = int(getattr(settings, "MEDIA_RETENTION_DAYS", 30))
    candidates = MediaAsset.objects.filter(
        source__in=EXPIRING_SOURCES, created_at__lt=now - dt.timedelta(days=days)
    ).exclude(status=MediaAsset.Status.INGESTING)
    used = selectors.referenced_asset_ids(candidates=candidates)
    report.kept_referenced = len(used)
    victims = [a for a in candidates.exclude(pk__in=used) if "keep" not in [str(t).lower() for t in a.tags or []]]
    for i, asset in enumerate(victims, 1):
        if report.dry_run:
            report.expired_assets.append(asset.pk)
            report.bytes_freed += asset.size
        else:
            try:
                asset_delete(asset=asset)
            except AssetInUse:
                report.kept_referenced += 1  # referenced since the bulk check
            else:
                report.expired_assets.append(asset.pk)
                report.bytes_freed += asset.size
        tick("expired assets", i, len(victims))


__all__ = [
    "AssetInUse",
    "CleanupReport",
    "UploadResult",
    "asset_create_from_file",
    "asset_delete",
    "asset_ingest",
    "asset_ingest_upload",
    "asset_make_previews",
    "asset_stream_url",
    "asset_update",
    "media_cleanup",
    "media_limits",
]
