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
    campaign = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    elements = forms.TypedMultipleChoiceField(required=False, coerce=int, widget=forms.CheckboxSelectMultiple)
    image = forms.ImageField(required=False, help_text="Or upload a product photo to animate.")
    platform = forms.ChoiceField(required=False, choices=[("", "No platform")] + list(PLATFORM_CHOICES))
    aspect_ratio = forms.ChoiceField(choices=[(a, a) for a in strategy.ASPECT_RATIOS], initial="9:16")
    duration = forms.FloatField(min_value=1, max_value=60, initial=6)
    resolution = forms.ChoiceField(choices=[(r, r) for r in strategy.RESOLUTIONS], initial="720p")
    tier = forms.ChoiceField(choices=[(t, t.title()) for t in TIERS], initial="draft")
    provider = forms.ChoiceField(required=False, choices=[("", "Any in the tier")])

    def __init__(self, *args: Any, campaigns: Any = (), elements: Any = (), providers: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [("", "No campaign (no budget)")] + [(c.pk, f"{c.name} (${c.remaining:.2f} left)") for c in campaigns]
        self.fields["elements"].choices = [(e.pk, f"{e.name} · {e.get_kind_display()}") for e in elements]
        self.fields["provider"].choices = [("", "Any in the tier")] + [(p["identifier"], p["name"]) for p in providers if p["enabled"]]
