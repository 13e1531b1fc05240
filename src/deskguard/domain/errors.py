"""Domain errors with stable codes.

Callers branch on ``code`` (never on message text). Transports map each error class to a status:
the API renders them as RFC 9457 problem+json, the CLI as a one-line message and exit code.
"""

from __future__ import annotations

from typing import Any


class DeskguardError(Exception):
    """Base error: a stable machine code, a human message, and optional details (e.g. the field)."""

    code: str = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.details = details or {}


class NotFound(DeskguardError):
    """The object does not exist *in the caller's tenant* (another tenant's id is also NotFound)."""

    code = "not_found"


class ValidationFailed(DeskguardError):
    """Input does not match the schema; ``field`` names the offending field."""

    code = "validation_failed"


class InvalidTransition(DeskguardError):
    """A request state change that the state machine does not allow."""

    code = "invalid_transition"


class Conflict(DeskguardError):
    """The state changed under the caller (lost a race, already executed, already decided)."""

    code = "conflict"


class Forbidden(DeskguardError):
    """The caller is authenticated but their role or duty forbids the gesture."""

    code = "forbidden"


class SeparationOfDuties(Forbidden):
    """Requester approving their own request, an approver who is the target, and the like."""

    code = "separation_of_duties"


class Unauthenticated(DeskguardError):
    code = "unauthenticated"


class ProofRejected(DeskguardError):
    """A proof attempt failed: wrong code, reused step, expired, locked after too many attempts."""

    code = "proof_rejected"


class PolicyError(DeskguardError):
    """A policy file is malformed; ``details`` carries ``file`` and ``line``."""

    code = "policy_invalid"

    def __init__(self, message: str, *, file: str, line: int | None, code: str | None = None) -> None:
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}", code=code, details={"file": file, "line": line})
        self.file = file
        self.line = line


class ConnectorError(DeskguardError):
    """An identity provider or channel refused the call (a definite failure)."""

    code = "connector_failed"


class ConnectorBusy(ConnectorError):
    """The far end answered "not now" (429, 5xx): refused for the moment, worth trying again later
    with the same idempotency key. Callers that do not retry treat it as any ``ConnectorError``."""


class ConnectorTimeout(DeskguardError):
    """A connector did not answer in time: the outcome is unknown, so the request stays pending."""

    code = "connector_timeout"


class ConfigurationError(DeskguardError):
    code = "configuration_invalid"
