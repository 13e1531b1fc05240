"""Provider assurance in a real browser: Adrien assesses FarShore, Aude reads and downloads its report."""

from __future__ import annotations

from hashlib import sha256
from pathlib import Path

import pytest
from browser_kit import Journey, LiveDemo
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
ADRIEN, AUDE = "adrien.admin@desk.example", "aude.auditor@audit.example"


def _watch(page) -> list[str]:  # noqa: ANN001 - a Playwright Page
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _certificate(tmp_path: Path) -> Path:
    """A real PDF, as a provider would send its certificate (rendered by WeasyPrint)."""
    from weasyprint import HTML

    path = tmp_path / "farshore-iso27001.pdf"
    HTML(
        string="<h1>Certificate ISO/IEC 27001:2022</h1><p>FarShore Support Ltd, service desk.</p>"
    ).write_pdf(path)
    return path


def test_adrien_assesses_farshore_and_aude_downloads_the_report(
    live_demo: LiveDemo,
    page,
    browser,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    certificate = _certificate(tmp_path)
    journey = Journey("assurance-admin")
    problems = _watch(page)
    live_demo.sign_in(page, ADRIEN)
    page.get_by_role("link", name="Providers").click()
    expect(page.get_by_role("heading", name="Outsourced providers")).to_be_visible()
    journey.shot(page, "providers")
    page.get_by_role("link", name="FarShore Support Ltd").click()
    expect(page.get_by_role("heading", name="Provider assurance: FarShore Support Ltd")).to_be_visible()
    journey.shot(page, "checklist")

    iso = page.get_by_role("article", name="ISO 27001 certificate")
    iso.get_by_text("Assess or attach evidence").click()
    iso.get_by_label("Evidence file").set_input_files(certificate)
    iso.get_by_role("button", name="Attach").click()
    expect(page.get_by_role("status")).to_contain_text("Evidence attached to “ISO 27001 certificate”.")
    iso = page.get_by_role("article", name="ISO 27001 certificate")
    expect(iso.get_by_role("link", name="farshore-iso27001.pdf")).to_be_visible()
    expect(iso).to_contain_text(sha256(certificate.read_bytes()).hexdigest())
    iso.get_by_label("Status").select_option("met")
    iso.get_by_label("Next review").fill("2027-11-30")
    iso.get_by_label("Note").fill("Certificate valid to 2027-11; scope covers the Manila desk.")
    iso.get_by_role("button", name="Save the assessment").click()
    expect(page.get_by_role("status")).to_contain_text("Assessment of “ISO 27001 certificate” saved.")
    iso = page.get_by_role("article", name="ISO 27001 certificate")
    expect(iso).to_contain_text("next review 2027-11-30")
    journey.shot(page, "iso-met")

    social = page.get_by_role("article", name="Social-engineering test frequency")
    social.get_by_text("Assess or attach evidence").focus()
    page.keyboard.press("Enter")  # a <summary> opens by keyboard
    social.get_by_label("Status").select_option("partial")
    social.get_by_label("Note").focus()
    page.keyboard.type("Yearly tests only; the contract should say quarterly.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the focus is on "Save the assessment"
    expect(page.get_by_role("status")).to_contain_text(
        "Assessment of “Social-engineering test frequency” saved."
    )
    expect(page.get_by_role("article", name="Social-engineering test frequency")).to_contain_text("partial")
    expect(page.get_by_role("complementary", name="Measured by deskguard")).to_contain_text("no exercise yet")
    journey.shot(page, "social-partial")
    assert problems == []

    auditor = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 800})
    aude_page = auditor.new_page()
    aude_problems = _watch(aude_page)
    aude = Journey("assurance-auditor")
    live_demo.sign_in(aude_page, AUDE)
    aude_page.get_by_role("link", name="Providers").click()
    aude_page.get_by_role("link", name="FarShore Support Ltd").click()
    expect(aude_page.get_by_role("article", name="ISO 27001 certificate")).to_contain_text(
        "assessed by op_adrien"
    )
    aude_page.get_by_role("link", name="Provider report").click()
    expect(
        aude_page.get_by_role("heading", name="Provider assurance report: FarShore Support Ltd")
    ).to_be_visible()
    row = aude_page.get_by_role("row", name="ISO 27001 certificate")
    expect(row).to_contain_text("met")
    expect(row).to_contain_text("farshore-iso27001.pdf")
    expect(aude_page.get_by_role("row", name="Social-engineering test frequency")).to_contain_text("partial")
    aude.shot(aude_page, "report")
    with aude_page.expect_download() as download:
        aude_page.get_by_role("link", name="Download the report (PDF)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.endswith(".pdf") and saved.read_bytes().startswith(b"%PDF-")
    aude.shot(aude_page, "downloaded")
    assert aude_problems == []
    auditor.close()
