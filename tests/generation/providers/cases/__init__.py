"""One module per remote video provider, each exposing CASE (or CASES) for test_contract.py."""

from __future__ import annotations

import importlib
import pkgutil

from tests.generation.providers.harness import ProviderCase


def all_cases() -> list[ProviderCase]:
    """Every case of every module in this package, in module-name order."""
    found: list[ProviderCase] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "CASES", None) or ([module.CASE] if hasattr(module, "CASE") else []))
    return found
