import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dashboards.services import health_rollups_refresh_all
from demo.keys import DEMO_KEYS, DEMO_WORKSPACE
from demo.personas import PERSONAS, staff_personas_ensure
from demo.traffic import staging_seed, traffic_seed
from workspaces.models import Source
from workspaces.services import source_create, source_issue_key, workspace_ensure

EMULATOR_URL = f"http://127.0.0.1:{os.environ.get('SEAM_EMULATOR_PORT', '8025')}"


class Command(BaseCommand):
    help = "Create (or refresh) the demo workspace, its two sources and a staff login; print how to use them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo is for development only (DEBUG=1): its keys and password are public.")
        site_id = os.environ.get("CUSTOMERIO_SITE_ID", "")
        api_key = os.environ.get("CUSTOMERIO_API_KEY", "")
        workspace, _ = workspace_ensure(
            name=DEMO_WORKSPACE,
            # Without Customer.io credentials, forward to the local emulator that `make run` starts.
            track_api_url="" if site_id else EMULATOR_URL,
            site_id=site_id or "demo-site",
            track_api_key=api_key or "demo-key",
        )
        for kind, key in DEMO_KEYS.items():
            source = workspace.sources.filter(name=f"Demo {kind}").first()
            if source is None:
                source_create(workspace=workspace, name=f"Demo {kind}", kind=kind, write_key=key)
            else:
                source_issue_key(source=source, write_key=key)
        password = os.environ.get("SEAM_DEMO_PASSWORD", "seam-demo")
        user, _ = get_user_model().objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        staff_personas_ensure(password=password)
        sources = {kind: workspace.sources.get(name=f"Demo {kind}") for kind in DEMO_KEYS}
        stored = traffic_seed(workspace=workspace, sources=sources)
        staging_seed()
        health_rollups_refresh_all()  # the dashboards show the demo at once; beat refreshes them from now on

        base = options["base_url"].rstrip("/")
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Seam is starting.",
                    f"  Admin:          {base}/admin/   (user: admin, password: {password})",
                    f"  Dashboards:     {base}/dashboards/   ("
                    + ", ".join(f"{name}: {role}" for name, role in PERSONAS.items())
                    + f"; password: {password})",
                    f"  Demo traffic:   {stored} events of 60 days" if stored else "  Demo traffic:   already seeded",
                    f"  Demo store:     {base}/shop/   (then find yourself in the emulator below)",
                    f"  OpenAPI schema: {base}/api/schema/",
                    f"  Browser key:    {DEMO_KEYS[Source.Kind.BROWSER]}",
                    f"  Server key:     {DEMO_KEYS[Source.Kind.SERVER]}",
                    f"  Customer.io:    {workspace.effective_track_url}"
                    + ("   (local emulator: /_emulator/ shows what arrived)" if not site_id else ""),
                    "  Try:",
                    f"    curl -u {DEMO_KEYS[Source.Kind.SERVER]}: {base}/v1/track \\",
                    "      -H 'Content-Type: application/json' \\",
                    """      -d '{"userId": "u-1", "event": "order_completed", "properties": {"order_id": "o-1"}}'""",
                    "",
                ]
            )
        )
