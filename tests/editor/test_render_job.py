"""The render job end to end: one job renders every chosen preset with progress in the Job, each
cut is probed and stored as a rendered asset of the composition's campaign, linked from its Render
row; a cancel stops ffmpeg and stores nothing; a failure is recorded on the job and the row."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from media_assets import editor_services as services
from media_assets import services as asset_services
from media_assets.compositions import Render
from media_assets.models import MediaAsset
from media_assets.render import runner
from media_assets.render.presets import PRESETS
from media_assets.render.spec import Preset, SafeArea
from media_assets.services import asset_create_from_file
from mediastudio.jobs import services as job_services
from mediastudio.jobs import tasks as job_tasks
from mediastudio.jobs.models import Job
from tests.editor.conftest import loudness
from tests.editor.test_compositions import clip
from tests.factories import CampaignFactory, UniverseFactory
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db

TINY = Preset("tiny", 192, 108, 30, SafeArea(top=6, bottom=12, left=8, right=8), "Tiny 16:9")


@pytest.fixture
def fast(settings, monkeypatch):
    settings.RENDER_ENCODER, settings.RENDER_PRESET, settings.RENDER_CRF = "x264", "veryfast", 30
    monkeypatch.setitem(PRESETS, "tiny", TINY)


@pytest.fixture
def progress_log(monkeypatch):
    """Every percent written into a job (the real job_progress still runs)."""
    seen: list[tuple[int, str]] = []
    real = job_services.job_progress

    def spy(*, job, percent, message="", heartbeat=True):
        seen.append((int(percent), message))
        return real(job=job, percent=percent, message=message, heartbeat=heartbeat)

    monkeypatch.setattr(job_services, "job_progress", spy)
    return seen


def _probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return json.loads(out)


def test_it_renders_every_preset_in_one_job_and_stores_linked_assets(
        workspace, owner, library, fast, progress_log, media_root, django_capture_on_commit_callbacks,  # noqa: F811
        monkeypatch):
    # What the upload's probe found of each clip comes with it: the render probes nothing again.
    assert library["marker"].metadata["render_source"]["width"] == 640
    monkeypatch.setattr(runner, "probe_source", lambda *args, **kwargs: pytest.fail("a stored clip was probed again"))
    # A cut's poster and scrub strip come from the frames its render encoded: the cut is not decoded again.
    for maker in ("make_poster", "make_scrub_strip"):
        monkeypatch.setattr(asset_services, maker, lambda *args, **kwargs: pytest.fail("a cut's preview was remade"))
    universe = UniverseFactory(workspace=workspace, logo=library["logo"])
    campaign = CampaignFactory(workspace=workspace, universe=universe)
    composition = services.composition_create(
        workspace=workspace, title="Cold brew", campaign=campaign, presets=["shorts", "tiny"], user=owner,
        clips=[clip(library["marker"], out_point=1.2, transition="crossfade", transition_duration=0.4),
               clip(library["photo"], duration=1.0, transition="slide", transition_duration=0.3),
               clip(library["red"], in_point=0.5)],
        caption_asset=library["srt"], voiceover=library["voice"], music=library["music"], watermark=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        job, renders = services.render_start(composition=composition, user=owner)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.kind == "render" and job.progress == 100 and job.campaign == campaign
    assert job.title == "Render Cold brew: YouTube Shorts 9:16, Tiny 16:9"  # as the Jobs page lists it
    # The bar moved through both cuts: several distinct steps, never backwards, each preset named.
    percents = [p for p, _ in progress_log]
    assert len(set(percents)) >= 6 and percents == sorted(percents)
    assert any(0 < p < 50 and "Shorts" in m for p, m in progress_log)
    assert any(50 < p < 100 and "Tiny" in m for p, m in progress_log)
    # After each cut's ffmpeg, the bar says the cut is being stored (checked, previews made), at its end.
    assert [(p, m) for p, m in progress_log if "storing" in m] == [
        (50, "YouTube Shorts 9:16: storing in the library"), (100, "Tiny 16:9: storing in the library")]

    expected = 1.2 + 1.0 + 1.0 - 0.4 - 0.3
    rows = {r.preset: r for r in Render.objects.filter(composition=composition)}
    assert set(rows) == {"shorts", "tiny"}
    for key, (width, height) in {"shorts": (1080, 1920), "tiny": (192, 108)}.items():
        row = rows[key]
        assert row.status == Render.Status.SUCCEEDED and row.job == job
        asset = row.output
        assert asset.source == MediaAsset.Source.RENDERED and asset.kind == "video"
        assert asset.campaign == campaign and asset.workspace == workspace
        assert asset.metadata["composition"] == composition.pk and asset.metadata["preset"] == key
        assert (asset.width, asset.height) == (width, height) and (row.width, row.height) == (width, height)
        assert asset.poster and asset.scrub_strip and asset.thumbnail and asset.preview_error == ""
        path = Path(media_root) / asset.file.name
        info = _probe(path)
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
        assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
        assert video.get("color_primaries") == "bt709" and video.get("color_transfer") == "bt709"
        assert (audio["codec_name"], audio["sample_rate"]) == ("aac", "48000")
        assert abs(float(video["duration"]) - expected) <= 1 / 30 + 1e-6
    integrated, peak = loudness(Path(media_root) / rows["tiny"].output.file.name)
    assert abs(integrated - -14.0) <= 1.0 and peak <= -1.0
    assert job.result["renders"] == [{"preset": "shorts", "render": rows["shorts"].pk, "asset": rows["shorts"].output_id},
                                     {"preset": "tiny", "render": rows["tiny"].pk, "asset": rows["tiny"].output_id}]


class CancelingReporter(job_services.JobReporter):
    """Cancels its job (through the real service, as the Cancel button does) once the bar passes 20%."""

    def progress(self, percent, message="", **kwargs):
        if percent >= 20 and self.job.status == Job.Status.RUNNING:
            job_services.job_cancel(job=Job.objects.get(pk=self.job.pk))
            self.job.status = Job.Status.CANCELED
        return super().progress(percent, message, **kwargs)


def test_a_cancel_stops_ffmpeg_and_leaves_no_partial_asset(workspace, owner, media, fast, monkeypatch, settings,
                                                         media_root, tmp_path, django_capture_on_commit_callbacks):  # noqa: F811
    long = asset_create_from_file(workspace=workspace, path=media["long.mp4"], source="uploaded", make_previews=False)
    composition = services.composition_create(workspace=workspace, title="Long", presets=["tiny", "shorts"],
                                              clips=[clip(long)])
    before = set(stored_files(media_root))
    monkeypatch.setattr(job_tasks, "JobReporter", CancelingReporter)
    job, renders = services.render_start(composition=composition, user=owner)
    with django_capture_on_commit_callbacks(execute=False):
        outcome = job_tasks.job_execute(str(job.pk))

    assert outcome == "canceled"
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED and job.progress < 50  # stopped inside the first cut
    assert {r.status for r in Render.objects.filter(job=job)} == {Render.Status.CANCELED}
    assert not Render.objects.filter(job=job, output__isnull=False).exists()
    assert not MediaAsset.objects.filter(source=MediaAsset.Source.RENDERED).exists()
    assert set(stored_files(media_root)) == before  # nothing stored
    temp = Path(settings.MEDIA_TEMP_DIR)
    assert not [p for p in temp.rglob("*") if p.is_file()]  # no partial mp4, no work files
    ffmpegs = subprocess.run(["pgrep", "-f", "long.mp4"], capture_output=True, text=True).stdout.split()
    assert not ffmpegs


def test_a_job_canceled_before_it_runs_marks_its_renders_canceled(workspace, owner, library, fast):
    composition = services.composition_create(workspace=workspace, title="Q", presets=["tiny"], clips=[clip(library["red"])])
    job, renders = services.render_start(composition=composition, user=owner)
    job_services.job_cancel(job=job)
    renders[0].refresh_from_db()
    assert renders[0].status == Render.Status.CANCELED


def test_a_failed_render_is_recorded_on_the_job_and_the_row(workspace, owner, library, fast, media_root,  # noqa: F811
                                                           django_capture_on_commit_callbacks):
    composition = services.composition_create(workspace=workspace, title="Broken", presets=["tiny"], clips=[clip(library["red"])])
    (Path(media_root) / library["red"].file.name).write_bytes(b"not a video any more")
    with django_capture_on_commit_callbacks(execute=True):
        job, renders = services.render_start(composition=composition, user=owner)
    job.refresh_from_db()
    renders[0].refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error.startswith("Tiny 16:9:")
    assert renders[0].status == Render.Status.FAILED and "ffmpeg" in renders[0].error
    assert not MediaAsset.objects.filter(source=MediaAsset.Source.RENDERED).exists()


def test_ffmpeg_stopped_by_the_ctrl_c_that_cancels_the_job_counts_as_canceled_not_failed(
        workspace, owner, library, fast, media_root, monkeypatch, django_capture_on_commit_callbacks):  # noqa: F811
    # A terminal's Ctrl-C reaches ffmpeg (it exits with an error) and the command, which cancels the job.
    def stopped_by_the_same_ctrl_c(spec, preset, out, **kwargs):
        job_services.job_cancel(job=Job.objects.get())
        raise runner.RenderError("ffmpeg exited with status 255", stderr_tail="Exiting normally, received signal 2.\n")

    monkeypatch.setattr(services, "render", stopped_by_the_same_ctrl_c)
    composition = services.composition_create(workspace=workspace, title="Stopped", presets=["tiny", "shorts"],
                                              clips=[clip(library["red"])])
    with django_capture_on_commit_callbacks(execute=True):
        job, renders = services.render_start(composition=composition, user=owner)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED and not job.error
    assert {r.status for r in Render.objects.filter(job=job)} == {Render.Status.CANCELED}


def test_a_cut_that_fails_does_not_stop_the_other_cuts_of_the_job(workspace, owner, library, fast, media_root,  # noqa: F811
                                                                 monkeypatch, django_capture_on_commit_callbacks):
    real = services.render

    def render_or_fail(spec, preset, out, **kwargs):
        if preset.key == "tiny":
            raise runner.RenderError("ffmpeg exited with status 234", stderr_tail="Error reinitializing filters!\n")
        return real(spec, preset, out, **kwargs)

    monkeypatch.setattr(services, "render", render_or_fail)
    monkeypatch.setitem(PRESETS, "tiny2", Preset("tiny2", 108, 192, 30, SafeArea(top=6, bottom=12, left=8, right=8), "Tiny 9:16"))
    composition = services.composition_create(workspace=workspace, title="Half", presets=["tiny", "tiny2"],
                                              clips=[clip(library["red"])])
    with django_capture_on_commit_callbacks(execute=True):
        job, renders = services.render_start(composition=composition, user=owner)
    job.refresh_from_db()
    first, second = (Render.objects.get(pk=r.pk) for r in renders)
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("Tiny 16:9: ") and job.error.endswith("1 of 2 cuts were made")
    assert first.status == Render.Status.FAILED and "234" in first.error and first.output is None
    assert second.status == Render.Status.SUCCEEDED and second.error == "" and (second.width, second.height) == (108, 192)
    assert second.output.source == MediaAsset.Source.RENDERED and second.output.file.size > 0
