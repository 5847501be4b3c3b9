"""The retention cleanup: temp files, orphaned objects, and expired generated assets nothing
references. A referenced asset is never deleted."""

from __future__ import annotations

import datetime as dt
import os
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from media_assets import selectors, services
from media_assets.models import MediaAsset
from media_assets.storage import media_storage, media_temp_dir, storage_put
from tests.factories import ElementFactory, UniverseFactory
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


def old(asset, days=40):
    MediaAsset.objects.filter(pk=asset.pk).update(created_at=timezone.now() - dt.timedelta(days=days))
    return asset


@pytest.fixture
def assets(workspace, mp4_file, mp3_file, png_file, jpeg_exif_file, tmp_path):
    make = lambda path, **kw: services.asset_create_from_file(workspace=workspace, path=path, **{"source": "generated", **kw})  # noqa: E731
    return {
        "expired": old(make(mp4_file)),
        "logo": old(make(png_file)),
        "reference": old(make(jpeg_exif_file)),
        "uploaded": old(make(mp3_file, source="uploaded")),
        "fresh": make(_copy_tone(tmp_path)),
    }


def _copy_tone(tmp_path):
    from tests.media_assets.hostile import make_mp3

    return make_mp3(tmp_path / "other.mp3", seconds=0.5)


def test_it_deletes_only_expired_generated_assets_that_nothing_references(workspace, assets, media_root, django_capture_on_commit_callbacks):
    universe = UniverseFactory(workspace=workspace, logo=assets["logo"])
    ElementFactory(universe=universe).reference_assets.add(assets["reference"])
    expired_names = assets["expired"].stored_names
    assert all(media_storage().exists(n) for n in expired_names) and len(expired_names) >= 4
    with django_capture_on_commit_callbacks(execute=True):
        report = services.media_cleanup()
    assert report.expired_assets == [assets["expired"].pk]
    assert report.kept_referenced == 2
    remaining = set(MediaAsset.objects.values_list("pk", flat=True))
    assert remaining == {assets[k].pk for k in ("logo", "reference", "uploaded", "fresh")}
    assert not any(media_storage().exists(n) for n in expired_names)
    for key in ("logo", "reference", "uploaded", "fresh"):
        assert all(media_storage().exists(n) for n in assets[key].stored_names), key


def test_a_keep_tag_and_a_dry_run_delete_nothing(assets):
    services.asset_update(asset=assets["expired"], tags=["Keep"])
    assert assets["expired"].pk not in services.media_cleanup().expired_assets
    services.asset_update(asset=assets["expired"], tags=[])
    report = services.media_cleanup(dry_run=True)
    assert assets["expired"].pk in report.expired_assets
    assert MediaAsset.objects.filter(pk=assets["expired"].pk).exists()


def test_the_reference_check_sees_every_relation_and_registered_checkers(workspace, assets):
    logo = assets["logo"]
    assert selectors.asset_is_referenced(asset=assets["expired"]) is False
    UniverseFactory(workspace=workspace, logo=logo)  # a hidden reverse relation (related_name="+")
    assert selectors.asset_is_referenced(asset=logo) is True
    refs = selectors.asset_references(asset=logo)
    assert len(refs) == 1 and refs[0].model == "campaigns.Universe"

    def timeline_uses(asset):
        return [selectors.AssetReference(model="editor.Composition", pk=1, label="Composition 'Teaser'")] if asset.pk == assets["expired"].pk else []

    selectors.register_reference_checker(timeline_uses)
    try:
        assert selectors.asset_is_referenced(asset=assets["expired"]) is True
        assert assets["expired"].pk not in services.media_cleanup().expired_assets
        with pytest.raises(services.AssetInUse):
            services.asset_delete(asset=assets["expired"])
    finally:
        selectors._checkers.remove(timeline_uses)


def test_it_removes_old_temp_files_and_orphaned_objects_but_not_fresh_ones(workspace, settings, media_root, tmp_path):
    temp = media_temp_dir()
    stale, fresh, foreign = temp / "ms-upload-old.part", temp / "ms-new.part", temp / "not-ours.txt"
    for path in (stale, fresh, foreign):
        path.write_bytes(b"x" * 10)
    hours_ago = time.time() - 7 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    os.utime(foreign, (hours_ago, hours_ago))
    src = tmp_path / "blob"
    src.write_bytes(b"orphan")
    storage_put(src=src, name=f"ws{workspace.pk}/aa/orphan.mp4")
    storage_put(src=src, name=f"ws{workspace.pk}/bb/just-written.mp4")
    day_ago = time.time() - 25 * 3600
    os.utime(media_root / f"ws{workspace.pk}/aa/orphan.mp4", (day_ago, day_ago))
    (media_root / "other-app").mkdir()
    (media_root / "other-app/keep.bin").write_bytes(b"k")
    os.utime(media_root / "other-app/keep.bin", (day_ago, day_ago))

    report = services.media_cleanup()
    assert report.temp_files == [str(stale)]
    assert report.orphan_objects == [f"ws{workspace.pk}/aa/orphan.mp4"]
    assert not stale.exists() and fresh.exists() and foreign.exists()
    assert media_storage().exists(f"ws{workspace.pk}/bb/just-written.mp4")
    assert (media_root / "other-app/keep.bin").exists()


def test_the_command_shows_progress_and_a_summary(assets, django_capture_on_commit_callbacks):
    out, err = StringIO(), StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("media_cleanup", stdout=out, stderr=err)
    assert "removed 0 temp file(s), 0 orphaned object(s), 3 expired generated asset(s)" in out.getvalue()
    assert "expired assets" in err.getvalue() and "100%" in err.getvalue()


def test_the_cleanup_is_scheduled():
    schedule = Schedule.objects.get(name="media: retention cleanup")
    assert schedule.func == "media_assets.tasks.cleanup_media" and schedule.repeats == -1
