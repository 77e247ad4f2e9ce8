"""The pages customers and staff use most, in Chromium at a desktop (1280 px) and a
phone (390 px) width: nothing scrolls sideways, the cart link stays on one line.
Screenshots are kept for people to look at (SCREENSHOT_DIR, default
onepanel-screenshots in the temporary directory)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from billing.models import Product
from billing.services.orders import CartLine, order_place
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(tempfile.gettempdir()) / "onepanel-screenshots")
)

# How far the page scrolls sideways (0 when it fits), and how many lines a link's text
# takes (its content height over its line height).
OVERFLOW = "document.scrollingElement.scrollWidth - window.innerWidth"
# Tables cut off by a box that hides its overflow (instead of scrolling in it).
CLIPPED_TABLES = """() => [...document.querySelectorAll("table")].filter((table) => {
  const right = table.getBoundingClientRect().right;
  for (let box = table.parentElement; box; box = box.parentElement) {
    if (getComputedStyle(box).overflowX === "hidden"
        && right > box.getBoundingClientRect().right + 1) return true;
  }
  return false;
}).length"""
LINES = """(el) => {
  const style = getComputedStyle(el);
  const content = el.getBoundingClientRect().height
    - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom)
    - parseFloat(style.borderTopWidth) - parseFloat(style.borderBottomWidth);
  return Math.round(content / parseFloat(style.lineHeight));
}"""


def _page(new_page, live_server, width, user=None):
    page = new_page(viewport={"width": width, "height": 900})
    if user is not None:
        client = Client()
        client.force_login(user)
        page.context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
    return page


def _shot(page, name: str, width: int) -> None:
    banner = page.get_by_role("button", name="Reject all")
    if banner.count():
        banner.first.click()
        page.wait_for_load_state()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    assert page.evaluate(OVERFLOW) <= 0, f"{name} scrolls sideways at {width} px"
    assert page.evaluate(CLIPPED_TABLES) == 0, f"{name} cuts a table off at {width} px"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_plans_page_and_the_cart_fit_the_screen(new_page, live_server, width):
    call_command("seed_catalogue", stdout=io.StringIO())
    page = _page(new_page, live_server, width)

    page.goto("/plans/?cycle=yearly")
    _shot(page, "plans", width)
    cart = page.get_by_role("link", name="Cart (0)")
    assert cart.evaluate(LINES) == 1, "the cart link wraps"
    title = page.locator("main h1").bounding_box()
    box = cart.bounding_box()
    assert title and box and box["y"] < title["y"] + title["height"]  # beside the title

    page.locator("#product-business").get_by_label("Extra backups").check()
    page.get_by_role("button", name="Add Business hosting to cart").click()
    page.wait_for_url("**/billing/cart/")
    assert page.locator("tbody td[data-label=Product]").all_inner_texts() == [
        "Business hosting",
        "Extra backups",
    ]
    _shot(page, "cart", width)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_staff_overview_and_a_customer_page_fit_the_screen(
    new_page, live_server, charlie, alice, width
):
    call_command("seed_catalogue", stdout=io.StringIO())
    starter = Product.objects.get(slug="starter")
    for user in (alice, UserFactory()):
        order_place(
            user=user, lines=[CartLine(product_id=starter.pk, cycle="monthly")], currency="EUR"
        )
    page = _page(new_page, live_server, width, user=charlie)

    page.goto("/admin/")
    assert page.get_by_role("heading", name="The business today").count() == 1
    _shot(page, "admin-overview", width)

    page.goto(f"/admin/accounts/user/{alice.pk}/change/")
    assert page.get_by_role("heading", name="Addresses (2)").count() == 1
    _shot(page, "customer-page", width)
