"""Run every remote video provider's fake server on this machine, to try the remote providers
from the Generate page and the API with no keys and no internet.

    .venv/bin/python -m tests.fakes.serve --env-file var/fakes.env     # keeps serving until Ctrl-C
    env $(cat var/fakes.env) make run                                   # in a second terminal

The env file holds each provider's key and base URL pointing at its fake, plus
SAFE_FETCH_ALLOW_LOOPBACK=true so the studio may download results from 127.0.0.1 (development only:
the deploy checks refuse it when DEBUG is off). Fakes walk through the vendor's real states and
serve a small real MP4; `--fail PROVIDER` makes one of them refuse every job (moderation), to see
the tier's fallback to the next provider.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

import django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", default="var/fakes.env")
    parser.add_argument("--fail", action="append", default=[], help="a provider id whose jobs all fail (moderation)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediastudio.settings")
    django.setup()
    from tests.generation.providers.cases import all_cases

    lines, fakes, seen = ["SAFE_FETCH_ALLOW_LOOPBACK=true"], [], set()
    for case in all_cases():
        fake = case.start_fake()
        fakes.append(fake)
        if case.identifier in args.fail:
            fake.switches.moderation = True
        for key, value in case.config(fake).items():
            if value and key not in seen:  # the first case of a provider sets its keys
                seen.add(key)
                lines.append(f"{key}={value}")
        print(f"{case.id:<20} {fake.url}", flush=True)
    env_file = Path(args.env_file)
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text("\n".join(lines) + "\n")
    print(f"wrote {env_file}: start the studio with  env $(cat {env_file}) make run", flush=True)

    stop = False

    def on_signal(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop:
        time.sleep(0.3)
    for fake in fakes:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
