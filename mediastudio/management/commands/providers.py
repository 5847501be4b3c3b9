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
    from generation.selectors import provider_catalogue

    rows = []
    for entry in provider_catalogue():
        rows.append({
            "provider": entry["identifier"], "kind": "video", "name": entry["name"], "enabled": entry["enabled"],
            "cooling_until": entry["cooling_until"], "note": entry["unavailable_reason"], "tiers": entry["tiers"],
            "needs": list(_settings_keys(entry["identifier"])), "models": entry["models"],
        })
    return rows


def _settings_keys(identifier: str) -> tuple[str, ...]:
    from generation.providers.registry import video_providers

    try:
        return video_providers.load(identifier).settings_keys
    except ImportError:
        return ()


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
        from generation.services import tier_chains

        rows = _video_rows() + _audio_rows()
        if json:
            self.stdout.write(_dumps({"providers": rows, "tiers": tier_chains()}))
            return
        for row in rows:
            state = self.style.SUCCESS("enabled") if row["enabled"] else self.style.WARNING(
                "off" + (f" (set {', '.join(row['needs'])})" if row.get("needs") else "")
            )
            if row.get("cooling_until"):
                state += self.style.WARNING(f", cooling down until {row['cooling_until']}")
            if row.get("note"):
                state += f" ({row['note']})"
            self.stdout.write(f"{row['provider']:<18} {row['kind']:<14} {state}")
            for model in row["models"]:
                life = model["lifecycle"]["status"]
                if model["lifecycle"]["sunset"]:
                    life += f" {model['lifecycle']['sunset']}"
                if model["lifecycle"]["replacements"]:
                    life += f" -> {', '.join(model['lifecycle']['replacements'])}"
                price = model["price"]
                shown = ", ".join(f"{k} ${v}/s" for k, v in price["per_second"].items()) or (
                    f"${price['per_video']}/video" if price["per_video"] else "free"
                )
                confirmed = "" if price["confirmed"] else " (unconfirmed)"
                self.stdout.write(f"    {model['name']:<34} {life:<40} {shown}{confirmed}  [{price['as_of']}]")
        for tier, chain in tier_chains().items():
            self.stdout.write(f"tier {tier}: {' -> '.join(chain)}")

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
