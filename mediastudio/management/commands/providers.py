"""List the providers, their models, lifecycle, prices and whether each is enabled; or check a key.

    manage.py providers                 every video and audio provider and every catalogue model
    manage.py providers --json          the same, as JSON
    manage.py providers check NAME      one cheap authenticated call to the real API with the
                                        configured key (needs the internet; never run by the tests)
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from mediastudio.lib.providers import ProviderDisabled, ProviderError


def _video_rows() -> list[dict]:
    from generation.providers.registry import video_providers

    rows = []
    for identifier in video_providers.entries:
        try:
            cls = video_providers.load(identifier)
        except ImportError as exc:  # an optional provider whose libraries are not installed
            rows.append({"provider": identifier, "kind": "video", "enabled": False, "note": f"not importable: {exc}", "models": []})
            continue
        provider = cls(config={})
        models = []
        for spec in provider.models():
            price = spec.price
            models.append({
                "name": spec.name,
                "lifecycle": spec.lifecycle.status,
                "sunset": spec.lifecycle.sunset.isoformat() if spec.lifecycle.sunset else None,
                "replacements": list(spec.lifecycle.replacements),
                "capabilities": sorted(spec.capabilities),
                "price_per_second": {k: str(v) for k, v in price.per_second.items()},
                "price_per_video": None if price.per_video is None else str(price.per_video),
                "price_source": price.source,
                "price_as_of": price.as_of,
                "price_confirmed": price.confirmed,
            })
        rows.append({"provider": identifier, "kind": "video", "name": cls.verbose_name, "enabled": cls.is_enabled(),
                     "needs": list(cls.settings_keys), "models": models})
    return rows


def _audio_rows() -> list[dict]:
    from audio.providers import registry

    rows = []
    for kind, reg in (("speech", registry.tts_providers), ("transcription", registry.transcription_providers),
                      ("music", registry.music_providers)):
        for identifier in reg.entries:
            cls = reg.load(identifier)
            rows.append({"provider": identifier, "kind": kind, "name": cls.verbose_name, "enabled": cls.is_enabled(),
                         "needs": list(cls.settings_keys), "models": []})
    return rows


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["list", "check"], default="list")
        parser.add_argument("name", nargs="?")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, action, name, json: bool = False, **options):
        if action == "check":
            return self._check(name)
        rows = _video_rows() + _audio_rows()
        if json:
            self.stdout.write(_dumps(rows))
            return
        for row in rows:
            state = self.style.SUCCESS("enabled") if row["enabled"] else self.style.WARNING(
                "off" + (f" (set {', '.join(row['needs'])})" if row.get("needs") else "")
            )
            self.stdout.write(f"{row['provider']:<18} {row['kind']:<14} {state}")
            for model in row["models"]:
                life = model["lifecycle"]
                if model["sunset"]:
                    life += f" {model['sunset']}"
                if model["replacements"]:
                    life += f" -> {', '.join(model['replacements'])}"
                price = ", ".join(f"{k} ${v}/s" for k, v in model["price_per_second"].items()) or (
                    f"${model['price_per_video']}/video" if model["price_per_video"] else "free"
                )
                confirmed = "" if model["price_confirmed"] else " (unconfirmed)"
                self.stdout.write(f"    {model['name']:<34} {life:<40} {price}{confirmed}  [{model['price_as_of']}]")

    def _check(self, name: str | None) -> None:
        if not name:
            raise CommandError("Say which provider: manage.py providers check NAME")
        from generation.providers.registry import video_providers

        try:
            provider = video_providers.get(name)
        except ProviderDisabled as exc:
            raise CommandError(str(exc)) from None
        try:
            result = provider.check_credentials()
        except ProviderError as exc:
            raise CommandError(f"{name}: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"{name}: {result}"))


def _dumps(rows: list[dict]) -> str:
    return json.dumps(rows, indent=2)
