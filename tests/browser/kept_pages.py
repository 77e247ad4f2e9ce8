"""Browser pages kept for a whole test run and emptied between tests.

Opening a page costs Chromium 0.6-0.8 s of CPU on the 2-core machine (a new tab, two new
renderer processes, and a first page load in a fresh renderer, which compiles Playwright's
injected script again); emptying a kept one costs a few round trips. Each kept page has a
browser context (cookie jar, storage, HTTP cache) of its own, and a test gets it in the
state a new context has: on about:blank, no cookies, no local or session storage, no
cached responses, no permissions, no routes, the default viewport.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, CDPSession, Error, Page, ViewportSize

# Playwright's viewport for a context opened without one.
DEFAULT_VIEWPORT: ViewportSize = {"width": 1280, "height": 720}
TIMEOUT_MS = 15_000


class KeptPages:
    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.free: list[tuple[Page, CDPSession]] = []
        self.taken: list[tuple[Page, CDPSession]] = []

    def take(self, viewport: ViewportSize | None = None) -> Page:
        """A page no other test of this run holds now."""
        if self.free:
            kept = self.free.pop()
        else:
            context = self.browser.new_context(base_url=self.base_url)
            page = context.new_page()
            kept = (page, context.new_cdp_session(page))
        page = kept[0]
        page.set_default_timeout(TIMEOUT_MS)
        page.set_viewport_size(viewport or DEFAULT_VIEWPORT)
        self.taken.append(kept)
        return page

    def give_back(self) -> None:
        """Empties the pages the test took and keeps them for the next tests; a page that
        cannot be emptied (crashed, closed) is closed with its context instead."""
        taken, self.taken = self.taken, []
        for page, cdp in taken:
            try:
                self._empty(page, cdp)
            except Error:
                page.context.close()
            else:
                self.free.append((page, cdp))

    def _empty(self, page: Page, cdp: CDPSession) -> None:
        # Leaving the page ends its scripts, timers and pending beacons' page first.
        page.goto("about:blank")
        page.unroute_all(behavior="ignoreErrors")
        page.context.unroute_all(behavior="ignoreErrors")
        page.context.clear_cookies()
        page.context.clear_permissions()
        # Local and session storage, IndexedDB, Cache Storage, service workers.
        cdp.send("Storage.clearDataForOrigin", {"origin": self.base_url, "storageTypes": "all"})
        cdp.send("Network.clearBrowserCache")

    def close(self) -> None:
        for page, _ in self.free + self.taken:
            page.context.close()
        self.free, self.taken = [], []


def open_page_options(options: dict[str, Any]) -> bool:
    """Whether new_page(**options) can be a kept page: only the viewport differs."""
    return set(options) <= {"viewport"}
