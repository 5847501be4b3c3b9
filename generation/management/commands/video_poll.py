"""Sweep due video attempts from the command line (ops: when no worker runs, or to inspect).

    python manage.py video_poll            # one sweep
    python manage.py video_poll --loop     # sweep every VIDEO_POLL_TICK seconds until nothing is in flight
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from generation.services import attempts_in_flight, attempts_poll_due, next_due_in


class Command(BaseCommand):
    help = "Submit or poll every video attempt that is due."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep sweeping until nothing is in flight.")

    def handle(self, *args, loop=False, **options):
        tick = float(getattr(settings, "VIDEO_POLL_TICK", 1.0))
        total = 0
        while True:
            total += attempts_poll_due()
            wait = next_due_in()
            if not loop or wait is None:
                break
            time.sleep(min(max(wait, 0.05), tick))
        self.stdout.write(f"stepped {total} attempt(s); {attempts_in_flight()} in flight")
