"""Render a composition's platform cuts from the command line, with a progress bar.

    manage.py composition_render 12                       # its chosen platforms, rendered here
    manage.py composition_render 12 --preset tiktok --preset youtube
    manage.py composition_render 12 --queue               # the workers render it; this follows the job
    manage.py composition_render 12 --no-progress         # logs, cron

It is the editor's Render button: one job, each cut probed, stored in the library and linked from
the composition, progress in the job (the pages show it live). Ctrl-C cancels the render: ffmpeg
stops and nothing of the cut in progress is kept. Exit status: 0 when every cut was made, 1 when a
cut failed, the render was canceled or the composition cannot be rendered (the reasons are printed).
"""

from __future__ import annotations

import threading
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from media_assets.compositions import Composition, Render
from media_assets.editor_services import render_start
from media_assets.render.presets import PRESETS
from media_assets.storage import local_path  # a local file's path; on S3 the storage name is printed
from mediastudio.jobs.models import Job
from mediastudio.jobs.services import IllegalTransition, job_cancel
from mediastudio.jobs.tasks import job_execute
from mediastudio.lib.exceptions import ApplicationError


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("composition", type=int, help="the composition's id (in its editor page's address)")
        parser.add_argument("--preset", action="append", dest="presets", metavar="KEY",
                            help=f"a platform cut, one of {', '.join(PRESETS)}; repeat for several "
                                 "(default: the platforms chosen in the editor)")
        parser.add_argument("--user", help="username recorded as the one who rendered")
        parser.add_argument("--queue", action="store_true", help="hand the job to the workers and follow it")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, cron)")

    def handle(self, *args, **o):
        composition = Composition.objects.select_related("workspace").filter(pk=o["composition"]).first()
        if composition is None:
            raise CommandError(f"No composition {o['composition']}.")
        user = None
        if o["user"]:
            user = get_user_model().objects.filter(username=o["user"]).first()
            if user is None:
                raise CommandError(f"No user '{o['user']}'.")
        presets = [p.strip().lower() for p in o["presets"]] if o["presets"] else None
        if o["queue"]:
            _check_workers()
        try:
            job, renders = render_start(composition=composition, presets=presets, user=user, enqueue=o["queue"])
        except ApplicationError as exc:
            fields = exc.extra.get("fields", {})
            reasons = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in fields.items())
            known = f" The platforms: {', '.join(PRESETS)}." if "presets" in fields else ""
            raise CommandError(f"{exc.message} {reasons}{known}".strip()) from None
        self.stdout.write(f"job {job.pk}: {composition.title} -> {', '.join(r.preset for r in renders)}")

        bar = None
        if not o["no_progress"]:
            from tqdm import tqdm

            bar = tqdm(total=100, unit="%", desc="Queued", file=self.stderr._out, leave=True,
                       bar_format="rendering: {percentage:3.0f}%|{bar}| {desc}")

        def show(percent: float, message: str) -> None:
            if bar is not None:
                bar.n = min(100.0, max(bar.n, float(percent)))
                bar.set_description_str(message[:60], refresh=False)
                bar.refresh()

        # The render runs in a thread of its own (or in a worker, with --queue) while this one shows its
        # progress and waits; Ctrl-C here cancels the job as the page's Cancel button does, and the
        # render stops at its next check (ffmpeg stopped, nothing of the cut in progress kept).
        worker = None
        if not o["queue"]:
            worker = threading.Thread(target=_execute, args=(job, show), name=f"render-{job.pk}")
            worker.start()
        interrupted = False
        try:
            _wait(job, worker, show)
        except KeyboardInterrupt:
            interrupted = True
            _cancel(job)
            if worker is not None:
                worker.join()  # a second Ctrl-C leaves at once
        finally:
            if bar is not None:
                bar.close()
        job.refresh_from_db()
        made = 0
        for row in Render.objects.filter(job=job).select_related("output").order_by("pk"):
            if row.status == Render.Status.SUCCEEDED and row.output is not None:
                made += 1
                self.stdout.write(f"{row.preset}: {row.width}x{row.height}, {row.duration:.2f} s, asset {row.output_id}: "
                                  f"{local_path(row.output.file.name) or row.output.file.name}")
            else:
                self.stderr.write(f"{row.preset}: {row.status} {row.error}".rstrip())
        if interrupted:
            kept = f"; the {made} cut(s) finished before it are kept" if made else ""
            raise CommandError(f"Canceled: ffmpeg was stopped and nothing of the cut in progress was kept{kept}.")
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"The render {job.status}: {job.error or job.message}")


def _execute(job: Job, show) -> None:
    try:
        job_execute(str(job.pk), on_progress=show)
    finally:
        connection.close()  # this thread's own database connection


def _wait(job: Job, worker: threading.Thread | None, show, *, interval: float = 0.25) -> None:
    """Until ``job`` has ended (and ``worker``, the thread running it here, with it). A job a
    worker process runs shows its progress from the database."""
    while True:
        if worker is None:
            job.refresh_from_db()
            show(job.progress, job.message or job.status)
            if job.is_final:
                return
        elif not worker.is_alive():
            return
        # A sleep, not worker.join(timeout): a join that Ctrl-C interrupts can leave the thread
        # marked as ended, and the join after the cancel would then not wait for the render to stop.
        time.sleep(interval)


def _check_workers() -> None:
    """With --queue, a worker must be listening on the queue this command writes to (REDIS_URL):
    else the job would wait there for ever."""
    from django.conf import settings
    from django_q.status import Stat

    try:
        running = Stat.get_all()
    except Exception as exc:  # the broker's own connection errors
        raise CommandError(f"Cannot reach the job queue at {settings.REDIS_URL}: {exc}") from None
    if not running:
        raise CommandError(
            f"No worker is listening on the job queue at {settings.REDIS_URL}. Run without --queue to render here, "
            "or set REDIS_URL to the studio's Redis (`make run` prints the port of the Redis it starts).")


def _cancel(job: Job) -> None:
    job.refresh_from_db()
    try:
        job_cancel(job=job)  # its renders are marked canceled; a worker running it stops ffmpeg
    except IllegalTransition:
        pass  # it ended meanwhile
