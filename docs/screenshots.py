"""Screenshots of the running app for the README, taken in Debian's headless Chromium.

    make run   # in another terminal: seeds the demo and starts everything
    .venv/bin/python docs/screenshots.py [--base-url http://127.0.0.1:8000] [--password seam-demo]

Signs in as Alice (marketer) for the health dashboard and as Bob (support) for a customer timeline,
and fails if a page logs a JavaScript error.
"""

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
TIMELINE_QUERY = "ines.moreau@proton.me"  # the demo customer whose order confirmation died in an outage


def shoot(base: str, password: str) -> list[str]:
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"])
        # Each lands on their role's first page: Alice on the health dashboard, Bob on the customer search.
        for user, path, height in (("alice", "health-dashboard.png", None), ("bob", "customer-timeline.png", 1500)):
            context = browser.new_context(viewport={"width": 1360, "height": height or 900})
            page = context.new_page()
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/dashboards/login/")
            page.fill("#id_username", user)
            page.fill("#id_password", password)
            page.click("#sign-in")
            page.wait_for_load_state()
            if user == "bob":
                page.fill("#customer-search", TIMELINE_QUERY)
                page.press("#customer-search", "Enter")
                page.wait_for_selector("#timeline")
                page.locator("#timeline details.attempts summary").first.click()
                page.locator("#timeline details.raw summary").first.click()
                page.wait_for_function("document.querySelector('#timeline details.raw pre').textContent.length > 20")
            else:
                page.wait_for_selector("#metrics")
            page.screenshot(path=str(DOCS / path), full_page=height is None)
            context.close()
        browser.close()
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--password", default="seam-demo")
    args = parser.parse_args()
    errors = shoot(args.base_url.rstrip("/"), args.password)
    sys.stdout.write("\n".join(["screenshots in docs/", *[f"console error: {error}" for error in errors]]) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
