"""Configuration and definition files people write: JSON, or YAML for ``.yaml``/``.yml``.

One loader for route definitions, trust registries and the wallet's known-issuer lists,
which used to read such files in three ways (a case-sensitive suffix or not, a size cap or
not, errors as ``MalformedInput`` or as whatever the parser raised). Chosen behaviour:

* the suffix decides, case-insensitively: ``.yaml``/``.yml`` is YAML (``safe_load``: no
  Python objects), anything else JSON;
* the file is read as bytes, so a UTF-8 BOM or UTF-16 text parses as it does in editors;
* ``max_bytes`` caps the size before parsing (a registry is fetched by a deployment
  script, not typed, and must not exhaust memory);
* every failure — unreadable, too large, not parseable — is one ``MalformedInput`` with
  the caller's ``code`` and a message naming the file, so a command line says exit 2 and
  why, and a service refuses to start with a reason. What the parsed data must look like
  is the caller's business.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import MalformedInput

YAML_SUFFIXES = frozenset({".yaml", ".yml"})


def load_data_file(path: str | Path, *, code: str, max_bytes: int | None = None) -> Any:
    """The parsed content of a JSON or YAML file; raises ``MalformedInput(code=code)``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MalformedInput(f"cannot read {path}: {exc.strerror or exc}", code=code) from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise MalformedInput(f"{path} is larger than {max_bytes} bytes", code=code)
    if path.suffix.lower() in YAML_SUFFIXES:
        import yaml

        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise MalformedInput(f"{path.name}: not valid YAML: {exc}", code=code) from None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise MalformedInput(f"{path.name}: not valid JSON: {exc}", code=code) from None


__all__ = ["YAML_SUFFIXES", "load_data_file"]
