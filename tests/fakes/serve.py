"""Run every remote video provider's fake server on this machine, to try the remote providers
from the Generate page and the API with no keys and no internet.

    .venv/bin/python -m tests.fakes.serve --env-file var/fakes.env     # keeps serving until Ctrl-C
    env $(cat var/fakes.env) make run                                   # in a second terminal

The env file holds each provider's key and base URL pointing at its fake, plus
SAFE_FETCH_ALLOW_LOOPBACK=true so the studio may download results from 127.0.0.1 (development only:
the deploy checks refuse it when DEBUG is off). Fakes walk through the vendor's real states and
serve a real MP4 made for each request: its duration and size (or aspect ratio and resolution) as
asked, in a colour taken from the prompt (4 fps keeps it quick); `--fail PROVIDER` makes one of them refuse every job (moderation), to see
the tier's fallback to the next provider. A restart serves each fake on the port the env file already
names when that port is free, so a studio started with that file keeps reaching its fakes.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", default="var/fakes.env")
    parser.add_argument("--fail", action="append", default=[], help="a provider id whose jobs all fail (moderation)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediastudio.settings")
    django.setup()
    from tests.generation.providers.cases import all_cases

    env_file = Path(args.env_file)
    previous = _read_env(env_file)
    lines, fakes, seen = ["SAFE_FETCH_ALLOW_LOOPBACK=true"], [], set()
    for case in all_cases():
        fake = _start_where_it_was(case, previous, seen)
        fakes.append(fake)
        if case.identifier in args.fail:
            fake.switches.moderation = True
        for key, value in case.config(fake).items():
            if value and key not in seen:  # the first case of a provider sets its keys
                seen.add(key)
                lines.append(f"{key}={value}")
        print(f"{case.id:<20} {fake.url}", flush=True)
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


def _read_env(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _start_where_it_was(case, previous: dict[str, str], seen: set[str]):
    # Restarting the fakes (say with --fail) must not move them: the running studio read their URLs
    # at start-up and would otherwise get "connection refused" from every provider.
    fake = case.start_fake()
    own_urls = [key for key, value in case.config(fake).items()
                if key not in seen and isinstance(value, str) and value.startswith(fake.url)]
    ports = {urlsplit(previous[key]).port for key in own_urls if key in previous}
    if len(ports) != 1 or ports == {urlsplit(fake.url).port}:
        return fake
    fake.stop()
    try:
        return case.start_fake(ports.pop())
    except OSError:  # taken by something else since: a new port, and the studio needs a restart
        return case.start_fake()


if __name__ == "__main__":
    sys.exit(main())
