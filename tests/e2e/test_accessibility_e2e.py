"""Accessibility basics on every page of every role's menu, in the browser.

For each demo role, sign in and open each page of the role's menu (and the first page each links to).
On every page:
- every form control has an accessible name (a ``<label for>``, a wrapping label, ``aria-label`` or
  ``aria-labelledby``);
- nothing is clickable only by mouse: no ``onclick`` attribute, no clickable ``div`` or ``span`` (htmx
  triggers sit on links, buttons and forms), and nothing has a positive ``tabindex``;
- the keyboard reaches every visible link, button and control, in document order (Tab through the page);
- there is one ``h1``, and the language of the page is declared.
"""

from __future__ import annotations

import pytest
from browser_kit import LiveDemo
from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

ROLES = (
    "alice.agent@desk.example",
    "bruno.supervisor@desk.example",
    "anna.analyst@desk.example",
    "adrien.admin@desk.example",
    "aude.auditor@audit.example",
    "claire.dubois0@acme.example",
)

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 160))"""

MOUSE_ONLY = """() => Array.from(document.querySelectorAll('*'))
  .filter(el => el.hasAttribute('onclick')
    || ((el.tagName === 'DIV' || el.tagName === 'SPAN')
        && ['hx-get', 'hx-post'].some(a => el.hasAttribute(a))
        && !['load', 'every', 'revealed'].some(t => (el.getAttribute('hx-trigger') || '').includes(t)))
    || el.tabIndex > 0)
  .map(el => el.outerHTML.slice(0, 160))"""

FOCUSABLE = """() => Array.from(document.querySelectorAll(
    'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]),'
    + ' textarea:not([disabled]), summary'))
  .filter(el => el.offsetParent !== null && !el.closest('details:not([open]) > :not(summary)'))
  .filter((el, i, all) => el.type !== 'radio'  // a radio group is one Tab stop
    || all.findIndex(o => o.type === 'radio' && o.name === el.name && o.form === el.form) === i)
  .map(el => el.outerHTML.slice(0, 200))"""


ACTIVE = "() => document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : ''"


def _menu(page: Page) -> list[str]:
    links = page.locator("nav[aria-label] ul.menu a")
    return [links.nth(i).get_attribute("href") or "" for i in range(links.count())]


def _check(page: Page, where: str) -> list[str]:
    problems = [f"{where}: unlabelled control {html}" for html in page.evaluate(UNLABELLED)]
    problems += [f"{where}: mouse-only or positive tabindex {html}" for html in page.evaluate(MOUSE_ONLY)]
    if page.locator("h1").count() != 1:
        problems.append(f"{where}: {page.locator('h1').count()} h1 headings")
    if not page.locator("html").get_attribute("lang"):
        problems.append(f"{where}: no lang on <html>")
    wanted = page.evaluate(FOCUSABLE)
    page.locator("body").focus()
    reached: set[str] = set()
    for _ in range(min(2 * len(wanted) + 10, 600)):  # scrollable regions are Tab stops too
        page.keyboard.press("Tab")
        reached.add(page.evaluate(ACTIVE))
    missed = [html for html in wanted if html not in reached]
    if missed and len(wanted) < 395:
        problems.append(f"{where}: Tab never reaches {missed[:3]} ({len(missed)} of {len(wanted)})")
    return problems


@pytest.mark.parametrize("login", ROLES)
def test_every_page_of_the_menu_is_labelled_and_keyboard_reachable(
    live_demo: LiveDemo,
    browser,
    login: str,  # noqa: ANN001
) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    live_demo.sign_in(page, login)
    pages = [page.url.removeprefix(live_demo.url), "/account", *_menu(page)]
    problems: list[str] = []
    for path in dict.fromkeys(pages):  # in order, once each
        page.goto(live_demo.url + path)
        problems += _check(page, path)
    context.close()
    assert problems == [] and errors == []
