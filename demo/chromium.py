"""Debian's headless Chromium, as every browser-driving part of Seam starts it (merge QA, browser tests)."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Debian's browser, never one Playwright downloads; nothing in the background may reach the network.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
