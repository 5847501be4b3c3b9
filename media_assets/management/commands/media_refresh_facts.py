"""Bring what the studio keeps of stored videos up to date, with a progress bar."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from media_assets.services import media_refresh_facts


class Command(BaseCommand):
    help = (
        "Re-read every stored video's facts from its file, as an upload reads them now: the size as shown "
        "(turned, square pixels), the HDR transfer (HDR previews made before are made again) and what a "
        "render takes instead of probing the file. Run once after upgrading."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (logs, cron).")

    def handle(self, *args, no_progress: bool = False, **options):
        bar = None if no_progress else tqdm(unit="video", desc="videos", file=self.stderr._out, leave=True)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total
                bar.n = done
                bar.refresh()

        try:
            changed = media_refresh_facts(progress=progress)
        finally:
            if bar is not None:
                bar.close()
        for pk, what in changed.items():
            if options.get("verbosity", 1) >= 2:
                self.stdout.write(f"  asset {pk}: {', '.join(what)}")
        self.stdout.write(f"{len(changed)} video(s) brought up to date.")
