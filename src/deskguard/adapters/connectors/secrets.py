"""Secrets are referenced, never written in configuration: ``env://NAME`` or ``file:///path``.

A connector's settings hold a ``SecretRef``; the value is read when the connector is built (and
again by ``resolve`` when it rotates), never logged, never stored by deskguard. An inline value is
refused with the field's name, so a password pasted into a settings file fails loudly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator

from deskguard.domain.errors import ConfigurationError

SCHEMES = ("env://", "file://")
MAX_FILE_BYTES = 64 * 1024


def check_reference(value: Any) -> str:
    """A reference's own shape: ``env://NAME`` (letters, digits, underscore) or ``file:///abs/path``."""
    if not isinstance(value, str) or not value.startswith(SCHEMES):
        raise ValueError("a secret is given as a reference, env://NAME or file:///path, never inline")
    if value.startswith("env://"):
        name = value[len("env://") :]
        if not name or not all(c.isalnum() or c == "_" for c in name):
            raise ValueError(f"env://NAME: {name!r} is not an environment variable name")
    else:
        path = value[len("file://") :]
        if not path.startswith("/"):
            raise ValueError("file:// takes an absolute path: file:///etc/deskguard/okta.key")
    return value


SecretRef = Annotated[str, AfterValidator(check_reference)]


def resolve(reference: str, *, field: str) -> str:
    """The secret a reference points to; ``ConfigurationError`` naming ``field`` when it cannot be read.

    A file's trailing newline is dropped (``echo secret > file`` writes one)."""
    check_reference(reference)
    if reference.startswith("env://"):
        name = reference[len("env://") :]
        value = os.environ.get(name)
        if not value:
            raise ConfigurationError(f"{field}: the environment variable {name} is not set", field=field)
        return value
    path = Path(reference[len("file://") :])
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigurationError(f"{field}: {path} is larger than {MAX_FILE_BYTES} bytes", field=field)
        value = path.read_text(encoding="utf-8").rstrip("\n")
    except OSError as exc:
        raise ConfigurationError(f"{field}: {path} cannot be read ({exc.strerror})", field=field) from None
    if not value:
        raise ConfigurationError(f"{field}: {path} is empty", field=field)
    return value
