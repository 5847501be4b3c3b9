"""Video generation requests, their provider attempts, batches, and provider health.

A `VideoGeneration` is what a user asked for (prompt, strategy, format, tier); its `Job` (owned by
mediastudio.jobs) carries status and progress. Each submission to a provider is a `VideoAttempt`
row, with its external id, costs and the time its next poll is due: the poller and webhooks move
attempts, never a sleeping worker.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models


class VideoBatch(models.Model):
    """A group of generations started together (batch, A/B variants, B-roll, product, transition)."""

    class Kind(models.TextChoices):
        BATCH = "batch", "Batch"
        VARIANTS = "variants", "Variants"
        BROLL = "broll", "B-roll"
        PRODUCT = "product", "Product animation"
        TRANSITION = "transition", "Transition"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey("campaigns.Workspace", on_delete=models.CASCADE, related_name="video_batches")
    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="video_batches")
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="video_batch", help_text="The parent job: grouped progress.")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.BATCH)
    title = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    total_estimate = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "video batches"

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} {self.uuid}"


class VideoGeneration(models.Model):
    class Tier(models.TextChoices):
        DRAFT = "draft", "Draft"
        STANDARD = "standard", "Standard"
        HIGH = "high", "High"
        MASTER = "master", "Master"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey("campaigns.Workspace", on_delete=models.CASCADE, related_name="video_generations")
    campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="video_generations")
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="video_generation")
    batch = models.ForeignKey(VideoBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="generations")
    variant_index = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Position in an A/B group.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    prompt = models.TextField()
    enriched_prompt = models.TextField(blank=True)
    negative_prompt = models.TextField(blank=True)
    strategy = models.JSONField(default=dict, blank=True)
    mood = models.FloatField(default=50)
    platform = models.CharField(max_length=20, blank=True)
    aspect_ratio = models.CharField(max_length=8, default="9:16")
    duration = models.FloatField(default=6)
    resolution = models.CharField(max_length=8, default="720p")
    seed = models.PositiveIntegerField(default=0)
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.DRAFT)
    provider = models.CharField(max_length=40, blank=True, help_text="Provider asked for ('' = the tier's chain).")
    model = models.CharField(max_length=80, blank=True)
    allow_fallback = models.BooleanField(default=True)
    chain = models.JSONField(default=list, blank=True, help_text="Planned [{provider, model, estimate}] in order.")
    skipped = models.JSONField(
        default=list, blank=True,
        help_text="Providers passed over, with why: [{provider, model, reason, stage, at}]; stage 'plan' (left out "
        "of the chain: not enabled, cannot serve the request) or 'fallback' (cooling down when its turn came).",
    )

    image_asset = models.ForeignKey("media_assets.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_frame_asset = models.ForeignKey("media_assets.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reference_assets = models.ManyToManyField("media_assets.MediaAsset", blank=True, related_name="+")
    elements = models.ManyToManyField("campaigns.Element", blank=True, related_name="video_generations")
    remix_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="remixes")
    result_asset = models.ForeignKey("media_assets.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="generated_by")

    estimated_cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"), help_text="Worst case over the chain.")
    reserved_amount = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"), help_text="Held on the campaign now.")
    actual_cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)

    idempotency_key = models.CharField(max_length=100, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="videogeneration_idempotency_key_unique",
            ),
            models.CheckConstraint(condition=models.Q(reserved_amount__gte=0), name="videogeneration_reserved_not_negative"),
        ]

    def __str__(self) -> str:
        return self.prompt[:60]


class VideoAttempt(models.Model):
    """One submission of a generation to one provider (a retry on the same provider is a new row)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # to submit when due (first try or a backoff retry)
        SUBMITTING = "submitting", "Submitting"
        RUNNING = "running", "Running"  # submitted; polled when due or advanced by a webhook
        FETCHING = "fetching", "Fetching result"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    ACTIVE = (Status.PENDING, Status.SUBMITTING, Status.RUNNING, Status.FETCHING)

    generation = models.ForeignKey(VideoGeneration, on_delete=models.CASCADE, related_name="attempts")
    chain_index = models.PositiveSmallIntegerField(default=0)
    retry = models.PositiveSmallIntegerField(default=0, help_text="0 for the first try on this provider.")
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=80, blank=True)
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    retryable = models.BooleanField(default=False)
    estimated_cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    actual_cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    poll_due_at = models.DateTimeField(null=True, blank=True)
    poll_interval = models.FloatField(default=5.0)
    polls = models.PositiveIntegerField(default=0)
    poll_errors = models.PositiveSmallIntegerField(default=0)
    webhook_deliveries = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["generation", "created_at", "id"]
        indexes = [
            models.Index(fields=["status", "poll_due_at"], name="videoattempt_due"),
            models.Index(fields=["provider", "external_id"], name="videoattempt_external"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class ProviderHealth(models.Model):
    """Consecutive failures of a provider; past a threshold it is skipped until `cooldown_until`."""

    provider = models.CharField(max_length=40, unique=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    cooldown_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.provider


class EngineLease(models.Model):
    """A named lease (the poll loop): at most one holder until `expires_at`."""

    name = models.CharField(max_length=40, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
