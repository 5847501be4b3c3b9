"""Run the media retention cleanup now, with a progress bar."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from media_assets.services import media_cleanup


class Command(BaseCommand):
    help = (
        "Remove orphaned temp files and stored objects, and generated assets older than "
        "MEDIA_RETENTION_DAYS that nothing references. Referenced assets are never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be removed; remove nothing.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (logs, cron).")

    def handle(self, *args, dry_run: bool = False, no_progress: bool = False, **options):
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if no_progress:
                return
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit="item", file=self.stderr._out, leave=True)
            bar.n = done
            bar.refresh()
            if done >= total:
                bar.close()

        report = media_cleanup(dry_run=dry_run, progress=progress)
        for bar in bars.values():
            bar.close()
        if options.get("verbosity", 1) >= 2:
            for name in report.temp_files + report.orphan_objects:
                self.stdout.write(f"  {name}")
            for pk in report.expired_assets:
                self.stdout.write(f"  asset {pk}")
        self.stdout.write(report.summary())
