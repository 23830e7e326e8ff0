"""Secrets read from the environment, wrapped so they never reach a log line or a repr."""

from __future__ import annotations

import os
from collections.abc import Mapping


class MissingSecretError(RuntimeError):
    """A needed environment variable is unset (the message names it, never a value)."""

    def __init__(self, env_name: str, purpose: str) -> None:
        super().__init__(f"environment variable {env_name} must be set ({purpose})")
        self.env_name = env_name


class Secret:
    """A string that only ``reveal()`` gives back; repr/str are masked so logs cannot leak it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        # Picklable for bytewax workers, still masked in every textual form.
        return (Secret, (self._value,))


def secret_from_env(
    env_name: str, purpose: str, environ: Mapping[str, str] | None = None
) -> Secret:
    """Read ``env_name``; missing or empty fails loudly rather than running unauthenticated."""
    value = (os.environ if environ is None else environ).get(env_name, "")
    if not value:
        raise MissingSecretError(env_name, purpose)
    return Secret(value)


def header_secrets(
    headers_env: Mapping[str, str], owner: str, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Request headers whose values live in the environment (``{header: variable name}``).

    Revealed here because they go on the wire; a missing variable names the header and its owner.
    """
    return {
        header: secret_from_env(env, f"{header} header of {owner}", environ).reveal()
        for header, env in headers_env.items()
    }
