"""`manage.py composition_render`: the editor's Render button from the command line, with a progress
bar; a composition that cannot render is refused with its reasons; Ctrl-C cancels the render and
keeps nothing of it."""

from __future__ import annotations

import _thread
import io
import json
import signal
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from media_assets import editor_services as services
from media_assets.compositions import Render
from media_assets.models import MediaAsset
from media_assets.render.presets import PRESETS
from mediastudio.jobs import services as job_services
from mediastudio.jobs.models import Job
from tests.conftest import stored_files
from tests.editor.test_compositions import clip
from tests.editor.test_render_job import TINY

# The command renders in a thread of its own, with its own database connection: the rows the test
# makes must be committed for it to see them.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fast(settings, monkeypatch):
    settings.RENDER_ENCODER, settings.RENDER_PRESET, settings.RENDER_CRF = "x264", "veryfast", 30
    monkeypatch.setitem(PRESETS, "tiny", TINY)


def test_it_renders_the_chosen_cuts_here_with_a_progress_bar_and_prints_where_they_are(
        workspace, owner, library, fast, media_root):
    composition = services.composition_create(workspace=workspace, title="Cold brew", presets=["shorts"],
                                              clips=[clip(library["red"]), clip(library["photo"], duration=1.0)])
    out, err = io.StringIO(), io.StringIO()
    call_command("composition_render", str(composition.pk), "--preset", "Tiny", "--user", owner.username,
                 stdout=out, stderr=err)

    row = Render.objects.get(composition=composition)  # the preset asked for, not the composition's own
    assert row.preset == "tiny" and row.status == Render.Status.SUCCEEDED
    assert row.job.status == Job.Status.SUCCEEDED and row.job.created_by == owner
    path = Path(media_root) / row.output.file.name
    assert f"tiny: 192x108, {row.duration:.2f} s, asset {row.output_id}: {path}" in out.getvalue()
    stream = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-select_streams", "v", "-of", "json", str(path)],
                                       capture_output=True, text=True, timeout=30, check=True).stdout)["streams"][0]
    assert (stream["width"], stream["height"], stream["codec_name"]) == (192, 108, "h264")
    bar = err.getvalue()
    assert "rendering: 100%" in bar and "Tiny 16:9: rendering" in bar  # the bar moved, naming the cut


def test_a_composition_that_cannot_render_is_refused_with_its_reasons(workspace, library, fast):
    empty = services.composition_create(workspace=workspace, title="Empty", clips=[])
    with pytest.raises(CommandError, match="clips: Add at least one clip"):
        call_command("composition_render", str(empty.pk), "--no-progress", stdout=io.StringIO())
    full = services.composition_create(workspace=workspace, title="Full", clips=[clip(library["red"])])
    with pytest.raises(CommandError, match="Unknown preset.*The platforms: tiktok, reels, shorts, youtube"):
        call_command("composition_render", str(full.pk), "--preset", "myspace", "--no-progress", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No composition 999999"):
        call_command("composition_render", "999999", stdout=io.StringIO())
    assert not Job.objects.exists()


def test_ctrl_c_cancels_the_render_and_keeps_nothing(workspace, media, fast, monkeypatch, settings, media_root):
    from media_assets.services import asset_create_from_file

    long = asset_create_from_file(workspace=workspace, path=media["long.mp4"], source="uploaded", make_previews=False)
    composition = services.composition_create(workspace=workspace, title="Long", presets=["shorts"], clips=[clip(long)])  # seconds to render
    before = set(stored_files(media_root))
    real = job_services.job_progress
    pressed = []

    def ctrl_c_at_20_percent(*, job, percent, message="", heartbeat=True):
        if percent >= 20 and not pressed:
            pressed.append(percent)
            _thread.interrupt_main(signal.SIGINT)  # as the terminal's Ctrl-C reaches the command
        return real(job=job, percent=percent, message=message, heartbeat=heartbeat)

    monkeypatch.setattr(job_services, "job_progress", ctrl_c_at_20_percent)
    with pytest.raises(CommandError, match="Canceled"):
        call_command("composition_render", str(composition.pk), "--no-progress", stdout=io.StringIO())

    job = Job.objects.get()
    assert pressed and job.status == Job.Status.CANCELED and job.progress < 50  # stopped well before the end
    assert Render.objects.get().status == Render.Status.CANCELED
    assert not MediaAsset.objects.filter(source=MediaAsset.Source.RENDERED).exists()
    assert set(stored_files(media_root)) == before
    assert not [p for p in Path(settings.MEDIA_TEMP_DIR).rglob("*") if p.is_file()]  # no partial mp4, no work files


def test_with_queue_a_worker_renders_it_and_the_command_follows_the_job(workspace, library, fast, media_root, monkeypatch):
    import threading

    from django.db import connection, transaction

    from mediastudio.jobs.tasks import job_execute

    ran = []

    def worker_picks_it_up(job, **kwargs):
        # A stand-in for the django-q worker: another thread with its own connection, told once the job is committed.
        def work():
            try:
                ran.append(job_execute(str(job.pk)))
            finally:
                connection.close()
        transaction.on_commit(lambda: threading.Thread(target=work).start())

    monkeypatch.setattr(job_services, "job_enqueue", worker_picks_it_up)
    monkeypatch.setattr("django_q.status.Stat.get_all", staticmethod(lambda broker=None: ["the stand-in"]))
    composition = services.composition_create(workspace=workspace, title="Queued", presets=["tiny"], clips=[clip(library["red"])])
    out, err = io.StringIO(), io.StringIO()
    call_command("composition_render", str(composition.pk), "--queue", stdout=out, stderr=err)

    assert ran == ["succeeded"]
    row = Render.objects.get(composition=composition)
    assert row.status == Render.Status.SUCCEEDED and f"asset {row.output_id}:" in out.getvalue()
    assert "rendering: 100%" in err.getvalue()


def test_with_queue_and_no_worker_listening_it_says_so_instead_of_waiting_for_ever(workspace, library, fast, settings, monkeypatch):
    monkeypatch.setattr("django_q.status.Stat.get_all", staticmethod(lambda broker=None: []))  # a Redis no cluster uses
    composition = services.composition_create(workspace=workspace, title="Queued", presets=["tiny"], clips=[clip(library["red"])])
    with pytest.raises(CommandError, match=f"No worker is listening on the job queue at {settings.REDIS_URL}"):
        call_command("composition_render", str(composition.pk), "--queue", stdout=io.StringIO())
    assert not Job.objects.exists()  # nothing left queued
