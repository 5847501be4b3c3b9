from __future__ import annotations

from django import forms

from campaigns.models import Campaign, Element
from media_assets.models import MediaAsset


class TagsField(forms.CharField):
    """Comma-separated tags in the form; a list in the model."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        value = super().to_python(value)
        return [part.strip() for part in value.split(",") if part.strip()]


class _WorkspaceLinksMixin:
    """Campaign and element choices limited to one workspace (no probing of other tenants' ids)."""

    def _limit_links(self, workspace) -> None:
        self.fields["campaign"].queryset = Campaign.objects.filter(workspace=workspace)
        self.fields["element"].queryset = Element.objects.filter(universe__workspace=workspace).select_related("universe")


class AssetUploadForm(_WorkspaceLinksMixin, forms.Form):
    # The files themselves are read from request.FILES ("files" or "file"), one or several.
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False)
    element = forms.ModelChoiceField(queryset=Element.objects.none(), required=False)
    tags = TagsField(required=False, max_length=400, help_text="Comma separated.")

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_links(workspace)


class AssetFilterForm(_WorkspaceLinksMixin, forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
    kind = forms.ChoiceField(required=False, choices=[("", "Any type"), *MediaAsset.Kind.choices])
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *MediaAsset.Source.choices])
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False, empty_label="Any campaign")
    element = forms.ModelChoiceField(queryset=Element.objects.none(), required=False, empty_label="Any element")
    tag = forms.ChoiceField(required=False, choices=[])

    def __init__(self, *args, workspace=None, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_links(workspace)
        self.fields["tag"].choices = [("", "Any tag"), *[(t, t) for t in tags]]


class AssetEditForm(_WorkspaceLinksMixin, forms.Form):
    title = forms.CharField(required=False, max_length=200)
    tags = TagsField(required=False, max_length=400, help_text="Comma separated, e.g. hero, summer, 9:16")
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False)
    element = forms.ModelChoiceField(queryset=Element.objects.none(), required=False)

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_links(workspace)
