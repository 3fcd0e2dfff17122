from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from demo.merge_qa import CHROMIUM, FAIL, MergeQAError, merge_qa


class Command(BaseCommand):
    help = (
        "Drive headless Chromium through the demo store (browse, cart, leave, come back, email, order), then "
        "check identity merging and forwarding; prints PASS/FAIL per check and exits non-zero on any FAIL."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--base-url", required=True, help="the Seam serving /shop/, on this database")
        parser.add_argument("--emulator-url", help="the Customer.io emulator to read; without it check 5 is skipped")
        parser.add_argument("--site-id", help="the emulator site to read (default: the demo workspace's site id)")
        parser.add_argument("--email", help="the shopper's email (default: a new merge-qa+<run>@example.com)")
        parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for forwarding (60)")
        parser.add_argument("--chromium", type=Path, default=CHROMIUM, help=f"the browser ({CHROMIUM})")
        parser.add_argument(
            "--browser-order",
            action="store_true",
            help="also send order_completed from the browser, as a client-side purchase tag would",
        )

    def handle(self, *args, **options) -> None:
        try:
            checks = merge_qa(
                base_url=options["base_url"].rstrip("/"),
                emulator_url=options["emulator_url"],
                site_id=options["site_id"],
                email=options["email"],
                timeout=options["timeout"],
                chromium=options["chromium"],
                browser_order=options["browser_order"],
                out=self.stdout.write,
            )
        except MergeQAError as error:
            raise CommandError(str(error)) from error
        failed = [check for check in checks if check.status == FAIL]
        if failed:
            raise CommandError(f"merge QA failed: {', '.join(check.name for check in failed)}")
