"""Reads of the media library, scoped to the requesting user's workspaces, and the
"is this asset referenced?" question every delete and the retention cleanup ask.

References are found generically: every concrete relation of any installed model that points at
MediaAsset (a foreign key, one-to-one or many-to-many, hidden related names included) counts,
so a composition or publication model added later protects its assets with no change here.
Apps can add checks that are not relations (``register_reference_checker``) or declare a
relation that is provenance, not use (``ignore_reference_field``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse

from campaigns.selectors import scoped
from media_assets.models import MediaAsset
from mediastudio.jobs.links import JobSubject


@dataclass(frozen=True)
class AssetReference:
    """One thing that uses an asset: ``label`` is for people ("Element 'Can' reference images")."""

    model: str  # app_label.ModelName
    pk: Any
    label: str
    url: str = ""  # the page where people can see and change it, when there is one


ReferenceChecker = Callable[[MediaAsset], Iterable[AssetReference]]
_checkers: list[ReferenceChecker] = []
# Rows recording which request produced an asset: provenance, not use. Without these, every
# generated asset would be "referenced" by its own request and retention could never expire it.
_ignored: set[str] = {"generation.videogeneration.result_asset", "audio.audiorequest.asset"}
# The page of a row that uses assets, by app_label.model: "Used by" links there, so that people can
# remove the asset where it is used.
ReferenceLink = Callable[[Any], str]
_links: dict[str, ReferenceLink] = {
    "campaigns.element": lambda element: reverse("campaigns:element-detail", args=[element.pk]),
    "media_assets.composition": lambda composition: reverse("editor:composition-edit", args=[composition.pk]),
    "media_assets.compositionclip": lambda clip: reverse("editor:composition-edit", args=[clip.composition_id]),
    "media_assets.render": lambda render: reverse("editor:composition-edit", args=[render.composition_id]),
}


def register_reference_checker(checker: ReferenceChecker) -> ReferenceChecker:
    """Add a check for uses that are not relations (a JSON timeline listing asset ids, say)."""
    if checker not in _checkers:
        _checkers.append(checker)
    return checker


def ignore_reference_field(dotted: str) -> None:
    """Declare ``app_label.Model.field`` a record of where an asset came from, not a use of it."""
    _ignored.add(dotted.lower())


def _relation_fields() -> list[Any]:
    fields = []
    for model in apps.get_models():
        for field in model._meta.get_fields(include_hidden=True):
            if not (getattr(field, "concrete", False) and field.is_relation and field.related_model is MediaAsset):
                continue
            if field.model is MediaAsset:
                continue
            if f"{model._meta.label}.{field.name}".lower() in _ignored:
                continue
            fields.append(field)
    return fields


def asset_references(*, asset: MediaAsset, limit: int = 20) -> list[AssetReference]:
    """What uses ``asset`` (at most ``limit`` per relation), empty when nothing does."""
    found: list[AssetReference] = []
    for field in _relation_fields():
        model = field.model
        verbose = str(field.verbose_name)
        link = _links.get(model._meta.label_lower)
        for obj in model._default_manager.filter(**{field.name: asset})[:limit]:
            found.append(AssetReference(
                model=model._meta.label, pk=obj.pk, label=f"{model._meta.verbose_name.capitalize()} '{obj}' ({verbose})",
                url=link(obj) if link else "",
            ))
    for checker in _checkers:
        found.extend(checker(asset))
    return found


def asset_is_referenced(*, asset: MediaAsset) -> bool:
    for field in _relation_fields():
        if field.model._default_manager.filter(**{field.name: asset}).exists():
            return True
    return any(any(True for _ in checker(asset)) for checker in _checkers)


def referenced_asset_ids(*, candidates: QuerySet[MediaAsset]) -> set[int]:
    """Of ``candidates``, the ids something uses (bulk version of asset_is_referenced)."""
    ids = set(candidates.values_list("pk", flat=True))
    used: set[int] = set()
    for field in _relation_fields():
        if field.many_to_many:
            through = field.remote_field.through
            target = field.m2m_reverse_field_name()  # the through table's column pointing at MediaAsset
            used.update(through._default_manager.filter(**{f"{target}__in": ids}).values_list(f"{target}_id", flat=True))
        else:
            used.update(field.model._default_manager.filter(**{f"{field.attname}__in": ids}).values_list(field.attname, flat=True))
    if _checkers:
        for asset in candidates.exclude(pk__in=used):
            if any(True for checker in _checkers for _ in checker(asset)):
                used.add(asset.pk)
    return used


# ---------------------------------------------------------------------------- reads


def asset_list(
    *,
    user: Any,
    workspace: Any = None,
    kind: str = "",
    source: str = "",
    status: str = "",
    campaign: Any = None,
    element: Any = None,
    tag: str = "",
    search: str = "",
) -> QuerySet[MediaAsset]:
    """The user's assets, newest first, narrowed by the given filters (empty = no filter)."""
    qs = scoped(MediaAsset.objects.select_related("campaign", "element", "ingest_job"), user=user)
    if workspace is not None:
        qs = qs.filter(workspace=workspace)
    if kind:
        qs = qs.filter(kind=kind)
    if source:
        qs = qs.filter(source=source)
    if status:
        qs = qs.filter(status=status)
    if campaign:
        qs = qs.filter(campaign_id=getattr(campaign, "pk", campaign))
    if element:
        qs = qs.filter(element_id=getattr(element, "pk", element))
    if tag:
        qs = _with_tag(qs, tag)
    if search:
        terms = Q()
        for word in search.split()[:6]:
            tagged = _ids_with_tags(qs, word, lambda tag, word=word.lower(): word in tag)
            terms &= _text_contains("title", word) | _text_contains("original_name", word) | Q(pk__in=tagged)
        qs = qs.filter(terms)
    return qs


def _text_contains(field: str, word: str) -> Q:
    # SQLite's LIKE folds the case of ASCII letters only ("été" would miss "Été"); its REGEXP is
    # Python's re, which folds every letter.
    if connection.vendor == "sqlite" and not word.isascii():
        return Q(**{f"{field}__iregex": re.escape(word)})
    return Q(**{f"{field}__icontains": word})


def _ids_with_tags(qs: QuerySet[MediaAsset], text: str, test: Callable[[str], bool]) -> list[int]:
    """Ids of ``qs`` with a tag passing ``test`` (given the tag lower-cased); ``text`` is in that tag.

    JSON lookups differ by database (no "contains" on SQLite), so a match on the JSON text narrows
    and ``test`` decides: the text alone would also match the JSON's quotes, commas and escapes.
    SQLite keeps non-ASCII letters escaped ("\\u00e9t\\u00e9"), PostgreSQL as they are: either spelling narrows.
    """
    text = text.lower()
    escaped = json.dumps(text)[1:-1]
    narrowing = Q(tags__icontains=text) | Q(tags__icontains=escaped) if escaped != text else Q(tags__icontains=text)
    return [pk for pk, tags in qs.filter(narrowing).values_list("pk", "tags") if any(test(str(t).lower()) for t in tags or [])]


def _with_tag(qs: QuerySet[MediaAsset], tag: str) -> QuerySet[MediaAsset]:
    tag = tag.strip().lower()
    return qs.filter(pk__in=_ids_with_tags(qs, tag, lambda t: t == tag))


def asset_tags(*, user: Any, workspace: Any) -> list[str]:
    """Every tag used in the workspace, sorted (for the filter list)."""
    seen: set[str] = set()
    for tags in scoped(MediaAsset.objects.filter(workspace=workspace), user=user).values_list("tags", flat=True):
        seen.update(str(t) for t in tags or [])
    return sorted(seen, key=str.lower)


def asset_by_sha(*, workspace: Any, sha256: str) -> MediaAsset | None:
    return MediaAsset.objects.filter(workspace=workspace, sha256=sha256).first()


@dataclass(frozen=True)
class SubtitleCue:
    start: float
    end: float
    text: str

    @property
    def span(self) -> str:
        return f"{_clock(self.start)}–{_clock(self.end)}"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds * 1000), 60_000)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest / 1000:06.3f}" if hours else f"{minutes}:{rest / 1000:06.3f}"


def asset_subtitle_cues(*, asset: MediaAsset, limit: int = 200) -> tuple[list[SubtitleCue], int]:
    """The first ``limit`` cues of a subtitle file, read as the editor reads them for captions,
    and how many cues it has."""
    from media_assets.editor_services import parse_subtitles  # loads the render stack: only when asked

    try:
        with asset.file.open("rb") as fh:
            text = fh.read().decode("utf-8-sig", errors="replace")
    except OSError:  # the stored file is gone: the page says no cues could be read
        return [], 0
    cues = parse_subtitles(text)
    return [SubtitleCue(start, end, body) for start, end, body in cues[:limit]], len(cues)


def render_job_subject(job: Any) -> JobSubject | None:
    """A render job's composition: the editor page with its cuts, and their API list (mediastudio.jobs.links)."""
    from media_assets.compositions import Render

    composition_id = Render.objects.filter(job=job).values_list("composition_id", flat=True).first()
    return JobSubject.of("the composition", composition_id, page="editor:composition-edit", api="api-composition-renders")


def ingest_job_subject(job: Any) -> JobSubject | None:
    """The uploaded file an ingest job checks (mediastudio.jobs.links)."""
    return JobSubject.of("the file", MediaAsset.objects.filter(ingest_job=job).values_list("pk", flat=True).first(),
                         page="media_assets:asset-detail", api="api-asset-detail")
