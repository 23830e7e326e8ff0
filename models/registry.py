"""The model registry: which artefact versions exist and which one the flow runs.

``models/registry.json`` is small, reviewed config: ``{"pinned": V, "versions": {V: summary}}``.
Promotion is a config change: set ``pinned`` (by hand in a reviewed commit, or ``pin()``), and
every worker loads that version at its next start; signals carry the version that made them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REGISTRY_PATH = Path(__file__).resolve().parent / "registry.json"


class RegistryError(RuntimeError):
    """The registry is unreadable or names a version it does not know."""


def read(path: Path = REGISTRY_PATH) -> dict[str, Any]:
    if not path.is_file():
        return {"pinned": None, "versions": {}}
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise RegistryError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data.get("versions"), dict):
        raise RegistryError(f"{path}: 'versions' must be an object")
    return data


def _write(data: dict[str, Any], path: Path) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def register(version: str, summary: dict[str, Any], path: Path = REGISTRY_PATH) -> None:
    """Record a version (replacing its summary if it exists); the first one becomes pinned."""
    data = read(path)
    data["versions"][version] = summary
    if not data.get("pinned"):
        data["pinned"] = version
    _write(data, path)


def pin(version: str, path: Path = REGISTRY_PATH) -> None:
    data = read(path)
    if version not in data["versions"]:
        raise RegistryError(
            f"cannot pin unknown version {version!r}; known: {sorted(data['versions'])}"
        )
    data["pinned"] = version
    _write(data, path)


def resolve(version: str | None = None, path: Path = REGISTRY_PATH) -> str:
    """The requested version if registered, else the pinned one."""
    data = read(path)
    chosen = version or data.get("pinned")
    if not chosen:
        raise RegistryError(f"{path}: no version pinned; run `tradewire train` first")
    if chosen not in data["versions"]:
        raise RegistryError(f"version {chosen!r} not in {path}; known: {sorted(data['versions'])}")
    return str(chosen)
