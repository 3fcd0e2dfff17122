"""Fixtures for the browser tests: Debian's headless Chromium driven by Playwright, and the demo sources."""

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from demo.keys import DEMO_KEYS
from demo.tests.browsing import SDK_DIR, SDK_DIST, Tab
from tests.browser import unavailable
from workspaces.models import Source
from workspaces.services import source_create, workspace_ensure

# `browser` (Debian's headless Chromium) comes from tests/browser.py, shared by every app.


@pytest.fixture
def new_tab(browser) -> Callable[..., Tab]:
    """Make tabs, each in a fresh context: a new visitor with no cookies or storage."""
    tabs = []

    def make(**options) -> Tab:
        tabs.append(Tab(browser.new_context(**options)))
        return tabs[-1]

    yield make
    for tab in tabs:
        tab.settle()
        tab.context.close()


@pytest.fixture
def tab(new_tab) -> Tab:
    return new_tab()


@pytest.fixture
def demo_sources(db) -> dict[str, Source]:
    """The demo workspace's browser and server sources with their fixed keys, as seed_demo makes them."""
    workspace, _ = workspace_ensure(
        name="Demo store", track_api_url="http://127.0.0.1:9", site_id="s", track_api_key="k"
    )
    return {
        kind: source_create(workspace=workspace, name=f"Demo {kind}", kind=kind, write_key=key)[0]
        for kind, key in DEMO_KEYS.items()
    }


@pytest.fixture(scope="session")
def sdk_dist() -> Path:
    """Customer.io's browser SDK bundles, installed from demo/tests/sdk/package-lock.json when missing.

    Without them the official SDK's test skips, except in CI (`CI` set), where it fails: a skip there would
    silently stop proving that Customer.io's own SDK works against Seam.
    """
    if not SDK_DIST.exists():
        problem = sdk_install()
        if problem:
            unavailable(problem)
    return SDK_DIST


def sdk_install() -> str | None:
    """Run `npm ci` in demo/tests/sdk; what went wrong, or None once the bundles are there."""
    npm_ci = f"npm ci --no-audit --no-fund in {SDK_DIR}"
    if not shutil.which("npm"):
        return f"the official SDK's test needs npm (apt-get install nodejs npm) for {npm_ci}"
    try:
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=SDK_DIR, capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        return f"{npm_ci} took more than 300 s"
    if SDK_DIST.exists():
        return None
    stderr_tail = "\n".join(result.stderr.strip().splitlines()[-20:])
    return f"{npm_ci} exited {result.returncode} without {SDK_DIST}:\n{stderr_tail}"
