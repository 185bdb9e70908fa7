"""Settings every service has; each service subclasses ``ServiceSettings`` for its own.

Values come from arguments (the CLI, the tests) first, then environment variables, then
defaults: an embedded SQLite file under the data directory and ``http://localhost:PORT``
as the public URL. An argument wins when it differs from the field's default; otherwise
the environment fills the field in.

One naming rule, read in one loop for every field of every service:
``MICROCRED_<SERVICE>_<FIELD>``, e.g. ``MICROCRED_VERIFIER_PUBLIC_URL`` or
``MICROCRED_ISSUER_OFFER_TTL``. The names used before (``DATABASE_URL``,
``MICROCRED_PUBLIC_URL``, ``MICROCRED_TRUST_REGISTRY``, ...) still work, each with a
:class:`DeprecatedSettingName` warning naming its replacement; a new name wins over an
old one. Values are read by the field's type: numbers, ``1/true/yes/on`` or
``0/false/no/off`` for flags, a path, a comma-separated list, or a JSON object.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

from .db import normalise_url, sqlite_url

ENV_PREFIX = "MICROCRED"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class DeprecatedSettingName(DeprecationWarning):
    """An environment variable was found under a name from before the one naming rule."""


def default_data_dir() -> Path:
    return Path.cwd() / ".microcred"


@dataclass
class ServiceSettings:
    service: ClassVar[str] = ""
    default_port: ClassVar[int] = 8000
    old_env_names: ClassVar[Mapping[str, str]] = {
        "port": "MICROCRED_PORT",
        "database_url": "DATABASE_URL",
        "public_url": "MICROCRED_PUBLIC_URL",
        "dev": "MICROCRED_DEV",
        "data_dir": "MICROCRED_DATA_DIR",
    }
    """Field → the environment variable it was read from before ``MICROCRED_<SERVICE>_*``."""

    host: str = "127.0.0.1"
    port: int = 0
    database_url: str = ""
    public_url: str = ""
    dev: bool = False
    data_dir: Path = field(default_factory=default_data_dir)

    def __post_init__(self) -> None:
        self._read_environment()
        if not self.port:
            self.port = self.default_port
        self.data_dir = Path(self.data_dir)
        if not self.database_url:
            self.database_url = sqlite_url(self.data_dir, self.service)
        self.database_url = normalise_url(self.database_url)
        if not self.public_url:
            self.public_url = f"http://localhost:{self.port}"
        self.public_url = self.public_url.rstrip("/")

    # -- the environment ----------------------------------------------------------------------

    @classmethod
    def env_name(cls, name: str) -> str:
        """The environment variable of field ``name``: ``MICROCRED_<SERVICE>_<FIELD>``."""
        return f"{ENV_PREFIX}_{cls.service.upper()}_{name.upper()}"

    @classmethod
    def _env_value(cls, name: str, *, empty_counts: bool) -> str | None:
        """The raw value of field ``name`` from the environment (None: not given).

        An empty value counts as not given, except where ``empty_counts`` (a text field
        whose default is not empty, where "" is a choice: no page policies)."""
        for variable in (cls.env_name(name), cls.old_env_names.get(name)):
            if variable is None or variable not in os.environ:
                continue
            raw = os.environ[variable].strip()
            if not raw and not empty_counts:
                continue
            if variable != cls.env_name(name):
                warnings.warn(
                    f"{variable} is deprecated; set {cls.env_name(name)} instead",
                    DeprecatedSettingName,
                    stacklevel=2,
                )
            return raw
        return None

    def _read_environment(self) -> None:
        hints = get_type_hints(type(self))
        for spec in fields(self):
            default = _default(spec)
            if getattr(self, spec.name) != default:
                continue  # an argument said otherwise: it wins
            if spec.name == "dev" and self.public_url.startswith("https://"):
                continue  # an https deployment is never put in dev mode from outside
            empty_counts = hints[spec.name] is str and bool(default)
            raw = self._env_value(spec.name, empty_counts=empty_counts)
            if raw is not None:
                setattr(self, spec.name, _convert(self.env_name(spec.name), hints[spec.name], raw))

    def environment(self) -> dict[str, str]:
        """These settings as environment variables, from which ``type(self)()`` rebuilds
        them (what uvicorn's worker processes do)."""
        env: dict[str, str] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is None:
                continue
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, list | tuple):
                text = ",".join(str(item) for item in value)
            elif isinstance(value, dict):
                text = json.dumps(value)
            else:
                text = str(value)
            env[self.env_name(spec.name)] = text
        return env

    # -- derived ------------------------------------------------------------------------------

    @property
    def is_https(self) -> bool:
        return self.public_url.startswith("https://")

    def production_problem(self) -> str | None:
        """Why these settings may not serve outside development (None: they may).

        Production mode (no ``--dev``) refuses to start without an https public URL: a
        service that silently assumed ``http://localhost`` put that address into every
        credential, offer and share link, and set its cookies without ``Secure`` (issue 14,
        item 11). With an https public URL every cookie is ``Secure`` (``Web.set_cookie``).
        """
        if self.dev or self.is_https:
            return None
        return (
            f"production mode needs an https public URL (--public-url https://... or "
            f"{self.env_name('public_url')}), not {self.public_url!r}; pass --dev (or "
            f"{self.env_name('dev')}=1) to run over http for development"
        )


def _default(spec: Field[Any]) -> Any:
    if spec.default is not MISSING:
        return spec.default
    if spec.default_factory is not MISSING:
        return spec.default_factory()
    return MISSING


def _convert(variable: str, hint: Any, raw: str) -> Any:
    """``raw`` as the field's type; a value that does not fit names its variable."""
    options = set(get_args(hint)) if get_origin(hint) in (Union, UnionType) else {hint}
    options.discard(NoneType)
    origin = get_origin(hint)
    try:
        if hint is bool:
            lowered = raw.lower()
            if lowered not in _TRUE | _FALSE:
                raise ValueError("expected 1/true/yes/on or 0/false/no/off")
            return lowered in _TRUE
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
        if Path in options:
            return Path(raw).expanduser() if raw else None
        if origin is list:
            return [item.strip() for item in raw.split(",") if item.strip()]
        if origin is dict:
            value = json.loads(raw)
            if not isinstance(value, dict):
                raise ValueError("expected a JSON object")
            return value
    except ValueError as exc:
        raise ValueError(f"{variable}={raw!r} is not usable: {exc}") from None
    return raw


__all__ = ["ENV_PREFIX", "DeprecatedSettingName", "ServiceSettings", "default_data_dir"]
