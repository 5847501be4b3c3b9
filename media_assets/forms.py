from __future__ import annotations

from django import forms

from campaigns.models import Campaign, Element
from campaigns.selectors import scoped
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


def _one_of(choices: list[tuple[str, str]]) -> dict[str, str]:
    """An invalid_choice message that names the valid values (the API answers it as it is)."""
    return {"invalid_choice": "'%(value)s' is not one of: " + ", ".join(value for value, _ in choices) + "."}


class AssetFilterForm(_WorkspaceLinksMixin, forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
    kind = forms.ChoiceField(required=False, choices=[("", "Any type"), *MediaAsset.Kind.choices],
                             error_messages=_one_of(MediaAsset.Kind.choices))
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *MediaAsset.Source.choices],
                               error_messages=_one_of(MediaAsset.Source.choices))
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False, empty_label="Any campaign",
                                      error_messages={"invalid_choice": "'%(value)s' is not the id of one of your campaigns."})
    element = forms.ModelChoiceField(queryset=Element.objects.none(), required=False, empty_label="Any element",
                                     error_messages={"invalid_choice": "'%(value)s' is not the id of one of your elements."})
    tag = forms.ChoiceField(required=False, choices=[])

    def __init__(self, *args, workspace=None, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_links(workspace)
        self.fields["tag"].choices = [("", "Any tag"), *[(t, t) for t in tags]]


class AssetListFilterForm(AssetFilterForm):
    """The library page's filters as the API takes them: with status and workspace, campaigns and
    elements of any of the user's workspaces, and any tag (not only one in use: none matches)."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *MediaAsset.Status.choices],
                               error_messages=_one_of(MediaAsset.Status.choices))
    workspace = forms.IntegerField(required=False, min_value=1)
    tag = forms.CharField(required=False, max_length=100)  # type: ignore[assignment]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = scoped(Campaign.objects.all(), user=user)
        self.fields["element"].queryset = scoped(Element.objects.all(), user=user, path="universe__workspace")


class AssetEditForm(_WorkspaceLinksMixin, forms.Form):
    title = forms.CharField(required=False, max_length=200)
    tags = TagsField(required=False, max_length=400, help_text="Comma separated, e.g. hero, summer, 9:16")
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False)
    element = forms.ModelChoiceField(queryset=Element.objects.none(), required=False)

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_links(workspace)
