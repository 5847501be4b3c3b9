from __future__ import annotations

import json

from django import forms

from campaigns.models import ASPECT_RATIO_CHOICES, PLATFORM_CHOICES, Campaign, Element, Universe
from media_assets.models import MediaAsset


class PaletteField(forms.CharField):
    """Comma-separated hex colours in the form; a list in the model."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        if isinstance(value, str) and value.startswith("["):
            try:
                return ", ".join(json.loads(value))
            except ValueError:
                return value
        return value

    def to_python(self, value):
        value = super().to_python(value)
        return [part.strip() for part in value.split(",") if part.strip()]


class UniverseForm(forms.ModelForm):
    palette = PaletteField(required=False, help_text="Hex colours, comma separated: #1f2a44, #e07a5f")
    fonts = PaletteField(required=False, help_text="Font families, headline first, comma separated.")

    class Meta:
        model = Universe
        fields = ["name", "description", "style", "tone", "palette", "fonts", "logo"]

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.workspace = workspace
        self.fields["logo"].queryset = MediaAsset.objects.filter(workspace=workspace, kind=MediaAsset.Kind.IMAGE)
        self.fields["description"].widget.attrs["rows"] = 3

    def clean_name(self):
        # The name is unique per workspace, a field this form does not carry, so the model form skips the check.
        name = self.cleaned_data["name"]
        taken = Universe.objects.filter(workspace=self.instance.workspace, name=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"This workspace already has a universe named '{name}'.")
        return name


class ElementForm(forms.ModelForm):
    class Meta:
        model = Element
        fields = [
            "kind", "name", "description", "reference_assets",
            "is_person", "consent_given_by", "consent_scope", "consent_expires_on",
        ]
        widgets = {"consent_expires_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, universe=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.universe = universe
        self.fields["reference_assets"].queryset = MediaAsset.objects.filter(
            workspace=universe.workspace, kind=MediaAsset.Kind.IMAGE
        )
        self.fields["reference_assets"].required = False
        self.fields["description"].widget.attrs["rows"] = 3


class CampaignForm(forms.ModelForm):
    target_platforms = forms.MultipleChoiceField(
        choices=PLATFORM_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    aspect_ratios = forms.MultipleChoiceField(
        choices=ASPECT_RATIO_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Campaign
        fields = [
            "name", "universe", "brief", "objective", "target_platforms", "aspect_ratios",
            "budget", "currency", "status", "starts_on", "ends_on",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "brief": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.workspace = workspace
        self.fields["universe"].queryset = Universe.objects.filter(workspace=workspace)
