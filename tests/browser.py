"""A pytest plugin (registered in the root conftest.py): Debian's headless Chromium driven by Playwright.

Any app's browser tests ask for `browser`; mark them `@pytest.mark.browser`.
"""

import os
from typing import NoReturn

import pytest

from demo.chromium import CHROMIUM, CHROMIUM_ARGS


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose tool is missing on this machine; in CI (`CI` set) fail instead, since a skip
    there would silently stop proving what the test proves."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


# Per module, not per session: Playwright's sync API keeps an asyncio loop running in the main thread
# while it is open, and Django then refuses ORM calls in every later test module.
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        unavailable(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # While Playwright's loop runs in this thread, Django would refuse the tests' ORM calls (and the
    # database flush after each test); they are plain synchronous calls, and the live server answers
    # from its own thread. Module-scoped like the browser, so it outlives each test's database teardown.
    with pytest.MonkeyPatch.context() as patch, sync_api.sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
