"""Workspaces (the tenant boundary), brand universes, their elements, and campaigns."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour like #1a2b3c.")
FONT_NAME_MAX_LENGTH = 80


class Workspace(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def group_name(self) -> str:
        return f"workspace-{self.pk}"


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        EDITOR = "editor", "Editor"
        VIEWER = "viewer", "Viewer"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.EDITOR)


class Universe(models.Model):
    """A brand's world: the style every generated video of its campaigns follows."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="universes")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    style = models.CharField(max_length=200, blank=True, help_text="Visual style, e.g. 'clean studio light, pastel'.")
    tone = models.CharField(max_length=200, blank=True, help_text="Tone of voice, e.g. 'warm, witty, confident'.")
    palette = models.JSONField(default=list, blank=True, help_text="Brand colours as hex strings.")
    fonts = models.JSONField(default=list, blank=True, help_text="Font family names, headline first.")
    logo = models.ForeignKey(
        "media_assets.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="universe_name_unique_in_workspace")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.palette, list) or any(not isinstance(c, str) for c in self.palette):
            raise ValidationError({"palette": "The palette is a list of hex colours."})
        for colour in self.palette:
            try:
                hex_colour(colour)
            except ValidationError:
                raise ValidationError({"palette": f"'{colour}' is not a hex colour like #1a2b3c."}) from None
        if not isinstance(self.fonts, list) or any(not isinstance(f, str) for f in self.fonts):
            raise ValidationError({"fonts": "Fonts are a list of family names."})
        for font in self.fonts:
            if len(font) > FONT_NAME_MAX_LENGTH:
                raise ValidationError(
                    {"fonts": f"A font name has at most {FONT_NAME_MAX_LENGTH} characters; '{font[:30]}…' has {len(font)}."}
                )
        if self.logo_id and self.workspace_id and self.logo.workspace_id != self.workspace_id:
            raise ValidationError({"logo": "That image belongs to another workspace."})


class Element(models.Model):
    """Something that recurs in a universe's videos: a character, product, location, logo or style."""

    class Kind(models.TextChoices):
        CHARACTER = "character", "Character"
        PRODUCT = "product", "Product"
        LOCATION = "location", "Location"
        LOGO = "logo", "Logo"
        STYLE = "style", "Style"

    universe = models.ForeignKey(Universe, on_delete=models.CASCADE, related_name="elements")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="Used in prompts: what it looks like, how it behaves.")
    reference_assets = models.ManyToManyField("media_assets.MediaAsset", blank=True, related_name="referenced_by_elements")
    is_person = models.BooleanField(default=False, help_text="A real person's likeness: needs a consent record.")
    consent_given_by = models.CharField(max_length=200, blank=True)
    consent_scope = models.CharField(max_length=300, blank=True, help_text="What the consent covers.")
    consent_expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["universe", "kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def workspace_id(self) -> int:
        return self.universe.workspace_id

    @property
    def consent_valid(self) -> bool:
        if not self.is_person:
            return True
        if not self.consent_given_by or not self.consent_scope:
            return False
        return self.consent_expires_on is None or self.consent_expires_on >= timezone.localdate()

    def clean(self) -> None:
        if self.is_person and not (self.consent_given_by and self.consent_scope):
            raise ValidationError(
                {"consent_given_by": "A person's likeness needs a consent record: who gave it and what it covers."}
            )


PLATFORM_CHOICES = [
    ("tiktok", "TikTok"),
    ("reels", "Instagram Reels"),
    ("shorts", "YouTube Shorts"),
    ("youtube", "YouTube"),
    ("feed_square", "Feed (1:1)"),
    ("feed_portrait", "Feed (4:5)"),
]
ASPECT_RATIO_CHOICES = [("9:16", "9:16"), ("16:9", "16:9"), ("1:1", "1:1"), ("4:5", "4:5")]


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        DONE = "done", "Done"

    class Objective(models.TextChoices):
        AWARENESS = "awareness", "Awareness"
        CONSIDERATION = "consideration", "Consideration"
        CONVERSION = "conversion", "Conversion"
        LAUNCH = "launch", "Product launch"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="campaigns")
    universe = models.ForeignKey(Universe, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns")
    name = models.CharField(max_length=160)
    brief = models.TextField(blank=True)
    objective = models.CharField(max_length=20, choices=Objective.choices, default=Objective.AWARENESS)
    target_platforms = models.JSONField(default=list, blank=True)
    aspect_ratios = models.JSONField(default=list, blank=True)
    budget = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="USD")
    spent = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    reserved = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(spent__gte=0), name="campaign_spent_not_negative"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="campaign_reserved_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent - self.reserved

    @property
    def target_platform_labels(self) -> list[str]:
        labels = dict(PLATFORM_CHOICES)
        return [labels.get(key, key) for key in self.target_platforms or []]

    @property
    def budget_used_percent(self) -> int:
        if not self.budget:
            return 0
        return min(100, int((self.spent + self.reserved) * 100 / self.budget))

    def clean(self) -> None:
        known = {key for key, _ in PLATFORM_CHOICES}
        unknown = [p for p in self.target_platforms or [] if p not in known]
        if unknown:
            raise ValidationError({"target_platforms": f"Unknown platform(s): {', '.join(unknown)}."})
        ratios = {key for key, _ in ASPECT_RATIO_CHOICES}
        bad = [r for r in self.aspect_ratios or [] if r not in ratios]
        if bad:
            raise ValidationError({"aspect_ratios": f"Unknown aspect ratio(s): {', '.join(bad)}."})
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The campaign cannot end before it starts."})
        if self.universe_id and self.workspace_id and self.universe.workspace_id != self.workspace_id:
            raise ValidationError({"universe": "That universe belongs to another workspace."})
