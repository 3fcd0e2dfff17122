"""Fixtures for the browser tests: Debian's headless Chromium driven by Playwright, and the demo sources."""

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from demo.keys import DEMO_KEYS
from demo.tests.browsing import SDK_DIR, SDK_DIST, Tab
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
    """Customer.io's browser SDK bundles, installed from demo/tests/sdk/package-lock.json when missing."""
    if not SDK_DIST.exists() and shutil.which("npm"):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SDK_DIR, timeout=300, check=False)
    if not SDK_DIST.exists():
        pytest.skip(f"needs the npm package: npm ci --prefix {SDK_DIR}")
    return SDK_DIST
