"""Media files of a workspace, with the metadata read from their content (never from their name)."""

from __future__ import annotations

import uuid

from django.db import models


def asset_upload_to(instance: "MediaAsset", filename: str) -> str:
    # Content-addressed: the same bytes land at the same key inside a workspace.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"ws{instance.workspace_id}/{instance.sha256[:2]}/{instance.sha256}.{ext}"


def preview_upload_to(instance: "MediaAsset", filename: str) -> str:
    return f"ws{instance.workspace_id}/previews/{instance.uuid}/{filename}"


# What a subtitle file's recognised format (metadata["format"]) is called on the pages.
SUBTITLE_FORMAT_LABELS = {"srt": "SRT", "vtt": "WebVTT", "ass": "ASS"}


class MediaAsset(models.Model):
    class Kind(models.TextChoices):
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"
        IMAGE = "image", "Image"
        SUBTITLE = "subtitle", "Subtitle"

    class Source(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        GENERATED = "generated", "Generated"
        RENDERED = "rendered", "Rendered"
        FETCHED = "fetched", "Fetched"

    class Status(models.TextChoices):
        INGESTING = "ingesting", "Ingesting"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey("campaigns.Workspace", on_delete=models.CASCADE, related_name="assets")
    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="assets")
    element = models.ForeignKey("campaigns.Element", null=True, blank=True, on_delete=models.SET_NULL, related_name="assets")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UPLOADED)
    title = models.CharField(max_length=200, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    file = models.FileField(upload_to=asset_upload_to, max_length=300)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField(default=0)
    mime = models.CharField(max_length=100, blank=True)
    duration = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    video_codec = models.CharField(max_length=40, blank=True)
    audio_codec = models.CharField(max_length=40, blank=True)
    bitrate = models.PositiveBigIntegerField(null=True, blank=True)
    audio_channels = models.PositiveSmallIntegerField(null=True, blank=True)
    loudness_lufs = models.FloatField(null=True, blank=True)
    poster = models.FileField(upload_to=preview_upload_to, blank=True, max_length=300)
    thumbnail = models.FileField(upload_to=preview_upload_to, blank=True, max_length=300)
    scrub_strip = models.FileField(upload_to=preview_upload_to, blank=True, max_length=300)
    waveform = models.FileField(upload_to=preview_upload_to, blank=True, max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READY, db_index=True)
    preview_error = models.TextField(blank=True, help_text="Why a preview could not be made (the file itself is fine).")
    reencoded = models.BooleanField(
        default=False, help_text="The stored bytes were written by the studio (re-encoded image, render), so they may be shown inline."
    )
    ingest_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tags = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "sha256"], name="asset_stored_once_per_workspace"),
        ]
        indexes = [models.Index(fields=["workspace", "kind", "-created_at"])]

    def __str__(self) -> str:
        return self.title or self.original_name or str(self.uuid)

    @property
    def display_name(self) -> str:
        return str(self)

    @property
    def duration_label(self) -> str:
        if self.duration is None:
            return ""
        total = int(round(self.duration))
        hours, rest = divmod(total, 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"

    @property
    def subtitle_format(self) -> str:
        """SRT, WebVTT or ASS for a subtitle file (as its content was recognised), else ""."""
        if self.kind != self.Kind.SUBTITLE:
            return ""
        return SUBTITLE_FORMAT_LABELS.get(str((self.metadata or {}).get("format", "")), "")

    @property
    def stored_names(self) -> list[str]:
        """Every storage key this row owns: the file and its previews."""
        return [f.name for f in (self.file, self.poster, self.thumbnail, self.scrub_strip, self.waveform) if f and f.name]


# Compositions and renders live in their own module; importing them here registers them with the app.
from media_assets.compositions import Composition, CompositionClip, Render  # noqa: E402,F401
