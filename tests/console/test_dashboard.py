"""The dashboard and the monthly report in HTML, PDF (read back with pdftotext) and CSV, after the
Okta day of November; role and tenant checks; a bad month is a clear error."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest
from console_kit import Console

from deskguard.sim.day import build_day

pytestmark = pytest.mark.db
AUDE, ALICE, OLGA, ADRIEN = (
    "aude.auditor@audit.example",
    "alice.agent@desk.example",
    "olga@farshore.example",
    "adrien.admin@desk.example",
)
ACME = "/t/tnt_acme"


def _november(console: Console) -> None:
    console.ingest(build_day()["okta-system-log.ndjson"], "okta")


def test_the_dashboard_draws_from_a_json_block_with_a_table_for_each_chart(console: Console) -> None:
    _november(console)
    aude = console.sign_in(AUDE)
    page = aude.get(f"{ACME}/dashboard?month=2026-11")
    assert page.status_code == 200, page.text
    text = page.text
    start = text.index('<script type="application/json" id="chart-data">') + len(
        '<script type="application/json" id="chart-data">'
    )
    data = json.loads(text[start : text.index("</script>", start)])
    assert data["severity"]["labels"] == ["critical", "high", "medium", "low", "informational"]
    assert sum(data["severity"]["values"]) > 0
    assert '<script src="/static/vendor/chart.js-4.6.1.umd.min.js" defer></script>' in text
    assert f'<th scope="row">critical</th><td>{data["severity"]["values"][0]}</td>' in text
    assert "<script>" not in text and "style=" not in text  # the CSP allows neither
    assert aude.get(f"{ACME}/dashboard?month=2026-13").status_code == 422


def test_the_report_reads_the_same_figures_in_html_csv_and_pdf(console: Console) -> None:
    _november(console)
    adrien = console.sign_in(ADRIEN)
    rows = list(csv.reader(io.StringIO(adrien.get(f"{ACME}/reports/2026-11.csv").text)))
    assert rows[0] == ["tenant", "month", "provider", "indicator", "value"]
    figures = {row[3]: row[4] for row in rows[1:] if len(row) == 5}
    alerts, critical = int(figures["alerts"]), int(figures["alerts_critical"])
    assert alerts > 0 and critical > 0 and figures["unanswered_alerts"] == str(alerts)
    html = adrien.get(f"{ACME}/reports/2026-11")
    assert html.status_code == 200 and "Monthly report 2026-11" in html.text
    pdf = adrien.get(f"{ACME}/reports/2026-11.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert shutil.which("pdftotext"), "poppler-utils (.ci/debian-packages) reads the PDF back"
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Monthly report 2026-11" in text
    assert any(
        line.split()[-1:] == [str(alerts)] and line.strip().startswith("Alerts") for line in text.splitlines()
    )
    assert any("Critical alerts" in line and line.split()[-1] == str(critical) for line in text.splitlines())
    assert adrien.get(f"{ACME}/reports/2026-11.docx").status_code == 404


def test_an_agent_cannot_read_the_dashboard_and_another_tenant_is_not_found(console: Console) -> None:
    alice = console.sign_in(ALICE)
    assert alice.get(f"{ACME}/dashboard").status_code == 403
    assert alice.get(f"{ACME}/reports/2026-11.pdf").status_code == 403
    olga = console.sign_in(OLGA)  # Globex only
    assert olga.get(f"{ACME}/dashboard").status_code == 404
    assert olga.get("/t/tnt_globex/dashboard").status_code == 200
