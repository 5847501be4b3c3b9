"""The model catalogue: one YAML file per provider in this folder, loaded into ModelSpecs.

Retiring or adding a model, or changing a price, is an edit of the YAML (a data change).
Each file looks like:

    provider: runway
    models:
      - name: gen4_turbo
        label: Gen-4 Turbo
        capabilities: [image_to_video]
        durations: [5, 10]            # or min_duration / max_duration
        aspect_ratios: ["16:9", "9:16", "1:1"]
        resolutions: ["720p"]
        max_reference_images: 0
        poll_interval: 5
        price: {per_second: {"*": "0.05"}, source: "https://docs.dev.runwayml.com/guides/pricing/", as_of: "2026-08-01", confirmed: true}
        lifecycle: {status: active}   # deprecated: {status: deprecated, sunset: 2026-12-31, replacements: [...]}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from generation.providers.base import Lifecycle, ModelSpec, Price

CATALOG_DIR = Path(__file__).resolve().parent


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _model(provider: str, data: dict[str, Any]) -> ModelSpec:
    price = data.get("price") or {}
    life = data.get("lifecycle") or {}
    per_second = {str(k): Decimal(str(v)) for k, v in (price.get("per_second") or {}).items()}
    return ModelSpec(
        provider=provider,
        name=str(data["name"]),
        label=str(data.get("label") or data["name"]),
        capabilities=frozenset(data.get("capabilities") or ()),
        durations=tuple(float(d) for d in data.get("durations") or ()),
        min_duration=float(data.get("min_duration", 1)),
        max_duration=float(data.get("max_duration", 10)),
        aspect_ratios=tuple(str(a) for a in data.get("aspect_ratios") or ("16:9", "9:16", "1:1")),
        resolutions=tuple(str(r) for r in data.get("resolutions") or ("720p",)),
        max_reference_images=int(data.get("max_reference_images", 0)),
        poll_interval=float(data.get("poll_interval", 5)),
        price=Price(
            per_second=per_second,
            per_video=Decimal(str(price["per_video"])) if price.get("per_video") is not None else None,
            source=str(price.get("source", "")),
            as_of=str(price.get("as_of", "")),
            confirmed=bool(price.get("confirmed", False)),
        ),
        lifecycle=Lifecycle(
            status=str(life.get("status", "active")),
            sunset=_date(life.get("sunset")),
            replacements=tuple(life.get("replacements") or ()),
            note=str(life.get("note", "")),
        ),
    )


@lru_cache(maxsize=1)
def load_catalog() -> dict[str, list[ModelSpec]]:
    catalog: dict[str, list[ModelSpec]] = {}
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        provider = str(data["provider"])
        catalog[provider] = [_model(provider, m) for m in data.get("models") or ()]
    return catalog


def models_for(provider: str) -> list[ModelSpec]:
    return list(load_catalog().get(provider, ()))


def find_model(name: str) -> ModelSpec | None:
    """A model by name across providers (first match), e.g. to refuse 'sora-2' with its replacements."""
    for specs in load_catalog().values():
        for spec in specs:
            if spec.name == name:
                return spec
    return None
