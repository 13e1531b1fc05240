"""``deskguard accounts``: enrol a console account for an operator or a person, or reset its credentials.

Run on the server by its administrator. The first password and the TOTP seed (as an ``otpauth://`` URI
for any authenticator app) are printed once, never stored in clear; hand them over out of band. The
person can then add a passkey on ``/account``.
"""

from __future__ import annotations

from urllib.parse import quote

import typer

from deskguard.domain.errors import DeskguardError
from deskguard.domain.otp import b32_secret

accounts_app = typer.Typer(help="Console accounts: enrol one, reset its credentials.", no_args_is_help=True)


def _runtime():  # noqa: ANN202 - a Runtime, imported late like the other command groups
    from deskguard.cli.main import configured_runtime

    return configured_runtime()


def _show(enrolment, issuer: str = "deskguard") -> None:  # noqa: ANN001
    login, seed = enrolment.account.login, b32_secret(enrolment.totp_seed)
    typer.echo(f"login:    {login}")
    typer.echo(f"password: {enrolment.password}   (shown once)")
    typer.echo(
        f"totp:     otpauth://totp/{quote(issuer)}:{quote(login)}?secret={seed}&issuer={quote(issuer)}"
    )


@accounts_app.command("create")
def create(
    login: str = typer.Argument(..., help="the e-mail the account signs in with"),
    operator: str = typer.Option("", help="the operator id this account is for"),
    person: str = typer.Option("", help="the person id (employee portal) this account is for"),
    tenant: str = typer.Option("", help="the person's tenant (with --person)"),
) -> None:
    """Enrol a console account for an existing operator or person."""
    from deskguard.app.console_auth import enrol

    if bool(operator) == bool(person):
        raise typer.BadParameter("give exactly one of --operator or --person")
    if person and not tenant:
        raise typer.BadParameter("--person needs --tenant")
    try:
        enrolment = enrol(
            _runtime().ctx,
            login=login,
            subject_kind="operator" if operator else "person",
            subject_id=operator or person,
            tenant_id=tenant or None,
        )
    except DeskguardError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(1) from None
    _show(enrolment)


@accounts_app.command("reset")
def reset(login: str = typer.Argument(..., help="the account's login")) -> None:
    """New password and TOTP seed; the account is unlocked and signed out everywhere."""
    from deskguard.app.console_auth import reset_credentials

    try:
        enrolment = reset_credentials(_runtime().ctx, login=login)
    except DeskguardError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(1) from None
    _show(enrolment)
