"""One report, three formats: the HTML page, the same page as PDF (WeasyPrint), and a CSV.

``report_response(...)`` answers a report route of any area: ``kind`` is ``html``, ``pdf`` or ``csv``;
the PDF is the page rendered with ``standalone=True`` (no menu, the print stylesheet
``static/report.css``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from deskguard.app.console_auth import Viewer
from deskguard.console.web import HERE, render


def pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML  # imported on use: it loads Pango

    sheet = CSS(filename=str(HERE / "static" / "report.css"))
    return HTML(string=html, base_url=str(HERE / "static")).write_pdf(stylesheets=[sheet])  # type: ignore[no-any-return]


def report_response(
    request: Request,
    *,
    kind: str,
    stem: str,
    csv: Callable[[], str],
    template: str,
    viewer: Viewer,
    **context: Any,
) -> Response:
    """The report as ``kind``, downloaded as ``<stem>.csv`` / ``<stem>.pdf`` or shown as a page."""
    if kind == "csv":
        return Response(
            csv(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{stem}.csv"'},
        )
    page = render(request, template, viewer=viewer, standalone=kind == "pdf", **context)
    if kind == "html":
        return page
    return Response(
        pdf(bytes(page.body).decode()),
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{stem}.pdf"'},
    )
