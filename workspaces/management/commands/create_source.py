import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from workspaces.models import Source, Workspace
from workspaces.services import source_create, workspace_ensure


class Command(BaseCommand):
    help = "Create a source (and its workspace when missing); print it with its write key as one JSON object."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workspace", required=True, help="workspace name; created when missing")
        parser.add_argument("--kind", required=True, choices=Source.Kind.values)
        parser.add_argument("--name", help="source name (default: '<kind> source <n>')")
        parser.add_argument("--environment", choices=Workspace.Environment.values, default="production")
        parser.add_argument("--track-url", default="", help="Track API base URL, e.g. the local emulator")
        parser.add_argument("--site-id", default="")
        parser.add_argument("--api-key", default="", help="Customer.io Track API key")
        parser.add_argument("--allowed-origin", action="append", default=[], help="repeatable; browser sources")

    def handle(self, *args, **options) -> None:
        workspace, workspace_created = workspace_ensure(
            name=options["workspace"],
            environment=options["environment"],
            track_api_url=options["track_url"],
            site_id=options["site_id"],
            track_api_key=options["api_key"],
        )
        name = options["name"] or f"{options['kind']} source {workspace.sources.count() + 1}"
        try:
            source, key = source_create(
                workspace=workspace,
                name=name,
                kind=options["kind"],
                allowed_origins="\n".join(options["allowed_origin"]),
            )
        except (IntegrityError, ValidationError):
            raise CommandError(f"workspace {workspace.name!r} already has a source named {name!r}") from None
        self.stdout.write(
            json.dumps(
                {
                    "workspace": workspace.name,
                    "workspace_id": workspace.pk,
                    "workspace_created": workspace_created,
                    "environment": workspace.environment,
                    "track_url": workspace.effective_track_url,
                    "source": source.name,
                    "source_id": source.pk,
                    "kind": source.kind,
                    "write_key": key,
                }
            )
        )
