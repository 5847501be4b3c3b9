"""The Generate page's form (the page also works without JavaScript: a plain POST of this form)."""

from __future__ import annotations

from typing import Any

from django import forms

from campaigns.models import PLATFORM_CHOICES
from generation import strategy
from generation.services.chain import TIERS


class GenerateForm(forms.Form):
    prompt = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What happens in the shot?"}))
    mood = forms.IntegerField(min_value=0, max_value=100, initial=50,
                              widget=forms.NumberInput(attrs={"type": "range", "min": 0, "max": 100, "step": 1}))
    camera_move = forms.ChoiceField(required=False, choices=[("", "Suggested by the mood")] + [(k, m.label) for k, m in strategy.CAMERA_MOVES.items()])
    lighting = forms.ChoiceField(required=False, choices=[("", "Suggested by the mood")] + [(k, m.label) for k, m in strategy.LIGHTINGS.items()])
    campaign = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, error_messages={
        "invalid_choice": "That campaign is no longer in this workspace (deleted, or the workspace was switched): choose another."})
    elements = forms.TypedMultipleChoiceField(required=False, coerce=int, widget=forms.CheckboxSelectMultiple)
    image = forms.ImageField(required=False, help_text="Or upload a product photo to animate.")
    platform = forms.ChoiceField(required=False, choices=[("", "No platform")] + list(PLATFORM_CHOICES))
    aspect_ratio = forms.ChoiceField(choices=[(a, a) for a in strategy.ASPECT_RATIOS], initial="9:16")
    duration = forms.FloatField(min_value=1, max_value=60, initial=6)
    resolution = forms.ChoiceField(choices=[(r, r) for r in strategy.RESOLUTIONS], initial="720p")
    tier = forms.ChoiceField(choices=[(t, t.title()) for t in TIERS], initial="draft")
    provider = forms.ChoiceField(required=False, choices=[("", "Any in the tier")])
    allow_fallback = forms.BooleanField(
        required=False, initial=True, label="Fall back to the next provider if one fails",
        help_text="The budget holds the dearest provider of the chain; without fallback only the first one's cost.")

    def __init__(self, *args: Any, campaigns: Any = (), elements: Any = (), providers: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [("", "No campaign (no budget)")] + [(c.pk, f"{c.name} (${c.remaining:.2f} left)") for c in campaigns]
        self.fields["elements"].choices = [(e.pk, f"{e.name} · {e.get_kind_display()}") for e in elements]
        self.fields["provider"].choices = [("", "Any in the tier")] + [(p["identifier"], p["name"]) for p in providers if p["enabled"]]


class GenerateModelForm(GenerateForm):
    """The Generate form with a model choice: every catalogue model grouped by provider, its
    lifecycle in the label. Retired models stay listed so that choosing one is answered with its
    retirement date and replacements rather than a bare "invalid choice"."""

    model = forms.ChoiceField(required=False, choices=[("", "Best for the tier")])

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, providers=providers, **kwargs)
        groups = []
        for p in providers:
            if not p["models"]:
                continue
            options = [(m["name"], _model_label(m)) for m in p["models"]]
            groups.append((p["name"] + ("" if p["enabled"] else " (off)"), options))
        self.fields["model"].choices = [("", "Best for the tier")] + groups


def _model_label(m: dict) -> str:
    life = m["lifecycle"]
    if life["status"] == "retired":
        return f"{m['label']} — retired {life['sunset'] or ''}".rstrip()
    if life["status"] == "deprecated":
        return f"{m['label']} — deprecated" + (f", sunset {life['sunset']}" if life["sunset"] else "")
    return m["label"]
