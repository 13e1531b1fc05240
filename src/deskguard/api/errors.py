"""RFC 9457 problem+json for every error the API returns.

Domain errors keep their stable ``code``; validation errors name the field. A 500 never leaks
internals: it carries a correlation id that the logs carry too.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from deskguard.domain import errors as e

log = structlog.get_logger("deskguard.api")

STATUS: list[tuple[type[e.DeskguardError], int]] = [
    (e.NotFound, 404),
    (e.ValidationFailed, 422),
    (e.ProofRejected, 422),
    (e.InvalidTransition, 409),
    (e.Conflict, 409),
    (e.SeparationOfDuties, 403),
    (e.Forbidden, 403),
    (e.Unauthenticated, 401),
    (e.ConnectorTimeout, 504),
    (e.ConnectorError, 502),
    (e.PolicyError, 500),
    (e.ConfigurationError, 500),
]


def problem(status: int, *, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://deskguard.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _status_for(exc: e.DeskguardError) -> int:
    return next((s for cls, s in STATUS if isinstance(exc, cls)), 400)


def install(app: FastAPI) -> None:
    @app.exception_handler(e.DeskguardError)
    async def _domain(_: Request, exc: e.DeskguardError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if exc.field:
            extra["field"] = exc.field
        if exc.details:
            extra["details"] = exc.details
        status = _status_for(exc)
        return problem(status, code=exc.code, title=type(exc).__name__, detail=exc.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "message": err["msg"]}
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "message": "invalid request"}
        return problem(
            422,
            code="validation_failed",
            title="ValidationFailed",
            detail=f"{first['field']}: {first['message']}",
            field=first["field"],
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        return problem(exc.status_code, code=code, title=str(exc.detail), detail=str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        ref = request.headers.get("x-request-id", "") or hex(id(exc))
        log.error("unhandled_error", error_type=type(exc).__name__, reference=ref, path=request.url.path)
        return problem(
            500,
            code="internal_error",
            title="Internal error",
            detail="an unexpected error occurred; nothing was executed",
            reference=ref,
        )
