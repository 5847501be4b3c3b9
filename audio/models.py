"""One request/result row per audio job (voiceover, transcription, music), pointing at its Job.

The job row holds status and progress; this row holds what was asked (script, voice, mood...),
what came out (the stored MediaAsset), and the words: the recogniser's transcript (segments and
words with probabilities, language) and the script's aligned words that captions are made from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AudioRequest(models.Model):
    class Kind(models.TextChoices):
        VOICEOVER = "voiceover", "Voiceover"
        TRANSCRIPTION = "transcription", "Transcription"
        MUSIC = "music", "Music"

    workspace = models.ForeignKey("campaigns.Workspace", on_delete=models.CASCADE, related_name="audio_requests")
    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="audio_requests")
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="audio_request")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    provider = models.CharField(max_length=40, help_text="Identifier of the audio provider used.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    # Voiceover: the script and how to speak it. Transcription: an optional known script.
    script = models.TextField(blank=True)
    voice = models.CharField(max_length=80, blank=True)
    language = models.CharField(max_length=20, blank=True)
    rate = models.FloatField(null=True, blank=True, help_text="Words per minute (espeak) or speed multiplier (remote).")
    pitch = models.FloatField(null=True, blank=True)

    # Music.
    mood = models.PositiveSmallIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Requested length in seconds (music).")
    seed = models.BigIntegerField(null=True, blank=True)
    tempo = models.FloatField(null=True, blank=True)
    key = models.CharField(max_length=20, blank=True)

    # Transcription: the media it listens to (any video or audio asset).
    source_asset = models.ForeignKey("media_assets.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The produced audio (voiceover, music).
    asset = models.ForeignKey("media_assets.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    transcript = models.JSONField(default=dict, blank=True, help_text="language, duration, segments with words and probabilities")
    words = models.JSONField(default=list, blank=True, help_text="caption words: [{text, start, end, matched}]")
    alignment = models.JSONField(default=dict, blank=True, help_text="how the words were timed: method, confidence, wer")
    details = models.JSONField(default=dict, blank=True, help_text="provider result (music tempo/key, characters billed...)")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def has_captions(self) -> bool:
        return bool(self.words)

    @property
    def media_asset(self):  # noqa: ANN201 - the asset a player plays: the produced one, else the listened one
        return self.asset or self.source_asset

    @property
    def music_category(self) -> str:
        """The music bed's category as words ("luxury reveal", not its key "luxury_reveal")."""
        return str((self.details or {}).get("category", "")).replace("_", " ")

    @property
    def music_instruments(self) -> list[str]:
        return [str(name).replace("_", " ") for name in (self.details or {}).get("instruments", [])]
