"""Compositions (timelines) and their renders.

A Composition orders clips (video or image assets with in/out points, fit, focus, camera move
and the transition into the next clip) and carries the tracks laid over them: captions (from an
audio request's aligned words or a subtitle asset), voiceover, music with level and ducking, the
universe's logo as a watermark and an optional end card. A Render row is one preset's cut of a
composition: its status, the job that renders it and the stored output asset.

The models are imported by ``media_assets.models`` so that Django registers them under the
media_assets app; ``editor_services.composition_spec`` turns a composition into the pure render
spec (``media_assets.render.spec``).

Decisions recorded here:
- Presets are stored as keys of ``media_assets.render.PRESETS`` (a JSON list), validated by the
  service, not as DB choices, so adding a preset needs no migration.
- The last clip's transition joins it to the end card (when there is one); otherwise it is unused.
- Clip assets are PROTECTed: the library refuses to delete them anyway (any relation counts as
  a use), this is the database's own guard.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Composition(models.Model):
    class CaptionMode(models.TextChoices):
        KARAOKE = "karaoke", "Word highlight (karaoke)"
        PHRASE = "phrase", "Phrase"

    class CaptionBorder(models.TextChoices):
        STROKE = "stroke", "Stroke"
        BOX = "box", "Box"

    class CaptionPosition(models.TextChoices):
        BOTTOM = "bottom", "Bottom"
        MIDDLE = "middle", "Middle"
        TOP = "top", "Top"

    class Corner(models.TextChoices):
        TOP_LEFT = "top_left", "Top left"
        TOP_RIGHT = "top_right", "Top right"
        BOTTOM_LEFT = "bottom_left", "Bottom left"
        BOTTOM_RIGHT = "bottom_right", "Bottom right"

    workspace = models.ForeignKey("campaigns.Workspace", on_delete=models.CASCADE, related_name="compositions")
    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="compositions")
    universe = models.ForeignKey(
        "campaigns.Universe", null=True, blank=True, on_delete=models.SET_NULL, related_name="compositions",
        help_text="Brand font, palette and logo; defaults to the campaign's universe.",
    )
    title = models.CharField(max_length=200)
    presets = models.JSONField(default=list, blank=True, help_text="Keys of the platform presets to render.")

    caption_request = models.ForeignKey(
        "audio.AudioRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Voiceover or transcription whose aligned words become the captions.",
    )
    caption_asset = models.ForeignKey(
        "media_assets.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="An SRT, WebVTT or ASS subtitle asset used for the captions.",
    )
    caption_mode = models.CharField(max_length=10, choices=CaptionMode.choices, default=CaptionMode.KARAOKE)
    caption_border = models.CharField(max_length=10, choices=CaptionBorder.choices, default=CaptionBorder.STROKE)
    caption_position = models.CharField(max_length=10, choices=CaptionPosition.choices, default=CaptionPosition.BOTTOM)

    voiceover = models.ForeignKey("media_assets.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    voiceover_gain_db = models.FloatField(default=0.0)
    music = models.ForeignKey("media_assets.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    music_level_db = models.FloatField(default=-8.0, help_text="Music level in dB before ducking.")
    music_duck = models.BooleanField(default=True, help_text="Lower the music while the voice speaks.")

    watermark = models.BooleanField(default=False, help_text="Show the universe's logo.")
    watermark_position = models.CharField(max_length=12, choices=Corner.choices, default=Corner.TOP_RIGHT)
    watermark_opacity = models.FloatField(default=0.8)

    end_card_text = models.CharField(max_length=120, blank=True, help_text="Call to action; empty: no end card.")
    end_card_duration = models.FloatField(default=2.5)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "media_assets"
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["workspace", "-updated_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def brand_universe(self):  # noqa: ANN201 - a Universe or None
        return self.universe or (self.campaign.universe if self.campaign_id else None)


class CompositionClip(models.Model):
    class Fit(models.TextChoices):
        COVER = "cover", "Crop to fill"
        CONTAIN_BLUR = "contain_blur", "Fit, blurred fill"

    class Motion(models.TextChoices):
        PUSH_IN = "push_in", "Push in"
        DRIFT = "drift", "Drift"
        NONE = "none", "Still"

    class TransitionKind(models.TextChoices):
        CUT = "cut", "Cut"
        CROSSFADE = "crossfade", "Crossfade"
        DIP_TO_BLACK = "dip_to_black", "Dip to black"
        WIPE = "wipe", "Wipe"
        SLIDE = "slide", "Slide"
        ZOOM = "zoom", "Zoom"

    class Direction(models.TextChoices):
        LEFT = "left", "Left"
        RIGHT = "right", "Right"

    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="clips")
    position = models.PositiveIntegerField()
    asset = models.ForeignKey("media_assets.MediaAsset", on_delete=models.PROTECT, related_name="+")
    in_point = models.FloatField(default=0.0)
    out_point = models.FloatField(null=True, blank=True, help_text="Videos: empty plays to the end of the source.")
    duration = models.FloatField(null=True, blank=True, help_text="Images: seconds on screen.")
    fit = models.CharField(max_length=14, choices=Fit.choices, default=Fit.COVER)
    focus_x = models.FloatField(default=0.5)
    focus_y = models.FloatField(default=0.5)
    motion = models.CharField(max_length=10, choices=Motion.choices, default=Motion.PUSH_IN)
    keep_audio = models.BooleanField(null=True, blank=True, help_text="Clip sound: empty = only without a voiceover.")
    layouts = models.JSONField(default=dict, blank=True, help_text="Per preset: {key: {fit, focus: [x, y]}}.")
    transition = models.CharField(max_length=14, choices=TransitionKind.choices, default=TransitionKind.CUT)
    transition_duration = models.FloatField(default=0.5)
    transition_direction = models.CharField(max_length=5, choices=Direction.choices, default=Direction.LEFT)

    class Meta:
        app_label = "media_assets"
        ordering = ["composition", "position"]
        constraints = [
            models.UniqueConstraint(fields=["composition", "position"], name="composition_clip_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.composition} #{self.position + 1}"


class Render(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    composition = models.ForeignKey(Composition, on_delete=models.CASCADE, related_name="renders")
    preset = models.CharField(max_length=30)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    output = models.ForeignKey("media_assets.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True)
    duration = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    encoder = models.CharField(max_length=10, blank=True)
    wall_seconds = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "media_assets"
        ordering = ["-created_at", "preset"]

    def __str__(self) -> str:
        return f"{self.composition} · {self.preset_label}"

    @property
    def preset_label(self) -> str:
        """The platform's name ("YouTube 16:9"), or the key of a preset no longer offered."""
        from media_assets.render.presets import PRESETS

        preset = PRESETS.get(self.preset)
        return (preset.label or preset.key) if preset else self.preset
