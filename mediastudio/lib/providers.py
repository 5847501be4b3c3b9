"""The contract every external (or embedded) provider follows, whatever its capability.

A provider class is one vendor behind one capability base (`VideoProvider`, `TTSProvider`, ...).
The registry of each capability maps a stable identifier to a dotted path and imports lazily.
Vendor failures are raised only as `ProviderError`; `permanent` decides between retrying the
same provider and moving on to the next one in a tier's chain.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from django.conf import settings


class ProviderError(Exception):
    """A vendor failure.

    permanent: True for validation, moderation, auth, insufficient credit, unsupported input;
    False for timeouts, 429 and 5xx. `retry_after` (seconds) carries the vendor's advice.
    `code` is a short machine-readable reason ("moderation", "rate_limited", "timeout", ...).
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        code: str = "",
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.code = code
        self.status_code = status_code

    def __str__(self) -> str:
        return self.message


class ProviderDisabled(Exception):
    """Raised by a registry when asked for a provider whose credentials are missing."""


class BaseProvider:
    """Common class attributes of every provider.

    identifier: stable slug stored on rows; verbose_name: shown to people;
    capabilities: frozenset of strings the UI and engine ask about (never `if identifier == ...`);
    settings_keys: names of settings that must be non-empty for the provider to be enabled.
    """

    identifier: ClassVar[str] = ""
    verbose_name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()
    settings_keys: ClassVar[tuple[str, ...]] = ()
    embedded: ClassVar[bool] = False

    def __init__(self, *, config: Mapping[str, Any] | None = None) -> None:
        # Per-workspace credentials or test overrides; falls back to global settings.
        self.config = dict(config or {})

    def setting(self, name: str, default: Any = None) -> Any:
        if name in self.config:
            return self.config[name]
        return getattr(settings, name, default)

    @classmethod
    def is_enabled(cls) -> bool:
        flag = getattr(settings, f"{cls.identifier.upper()}_ENABLED", None)
        if flag is False:
            return False
        return all(bool(getattr(settings, key, "")) for key in cls.settings_keys)

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities


@dataclass
class Registry:
    """identifier -> dotted path of the provider class, imported on first use."""

    entries: dict[str, str] = field(default_factory=dict)

    def register(self, identifier: str, dotted_path: str) -> None:
        self.entries[identifier] = dotted_path

    def load(self, identifier: str) -> type[BaseProvider]:
        try:
            dotted = self.entries[identifier]
        except KeyError:
            raise ProviderDisabled(f"Unknown provider '{identifier}'.") from None
        module_name, _, class_name = dotted.rpartition(".")
        return getattr(importlib.import_module(module_name), class_name)

    def get(self, identifier: str, *, config: Mapping[str, Any] | None = None, require_enabled: bool = True) -> BaseProvider:
        cls = self.load(identifier)
        if require_enabled and not config and not cls.is_enabled():
            missing = ", ".join(cls.settings_keys) or f"{identifier.upper()}_ENABLED"
            raise ProviderDisabled(f"Provider '{identifier}' is not enabled: set {missing}.")
        return cls(config=config)

    def all(self) -> list[type[BaseProvider]]:
        return [self.load(identifier) for identifier in self.entries]

    def enabled(self) -> list[type[BaseProvider]]:
        return [cls for cls in self.all() if cls.is_enabled()]
