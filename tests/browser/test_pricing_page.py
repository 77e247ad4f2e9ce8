"""The pricing page in Chromium at a desktop and a phone width, with screenshots kept
for people to look at (SCREENSHOT_DIR, default onepanel-screenshots in the temporary directory)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(tempfile.gettempdir()) / "onepanel-screenshots")
)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_pricing_page_reads_as_one_screen_of_plans_at_desktop_and_phone_width(new_page, width):
    call_command("seed_catalogue", stdout=io.StringIO())
    page = new_page(viewport={"width": width, "height": 900})
    page.goto("/plans/?cycle=yearly")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"plans-{width}.png"), full_page=True)

    headings = page.locator("main h2").all_inner_texts()
    assert headings == ["Shared hosting", "VPS", "Domains"]
    starter = page.locator("#product-starter")
    assert starter.locator(".price__amount").inner_text() == "€49.90"
    assert "save 17%" in starter.inner_text()
    assert starter.locator(".features li").count() == 4
    # The cart link sits in the page's top row, beside the title, at both widths.
    title = page.locator("main h1").bounding_box()
    cart = page.get_by_role("link", name="Cart (0)").bounding_box()
    assert title and cart and abs(cart["y"] - title["y"]) < title["height"]
    # No sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
