"""Writes for workspaces and sources."""

from django.db import transaction
from django.utils import timezone

from workspaces.models import Source, Workspace
from workspaces.write_keys import write_key_digest, write_key_generate


def workspace_ensure(
    *,
    name: str,
    environment: str = Workspace.Environment.PRODUCTION,
    track_api_url: str = "",
    site_id: str = "",
    track_api_key: str = "",
) -> tuple[Workspace, bool]:
    """Find the named workspace or create it; settings given for an existing one are updated."""
    workspace, created = Workspace.objects.get_or_create(
        name=name,
        defaults={
            "environment": environment,
            "track_api_url": track_api_url,
            "site_id": site_id,
            "track_api_key": track_api_key,
        },
    )
    if not created:
        changed = {
            field: value
            for field, value in {
                "track_api_url": track_api_url,
                "site_id": site_id,
                "track_api_key": track_api_key,
            }.items()
            if value and getattr(workspace, field) != value
        }
        for field, value in changed.items():
            setattr(workspace, field, value)
        if changed:
            workspace.save(update_fields=list(changed))
    return workspace, created


def source_issue_key(*, source: Source, write_key: str | None = None) -> str:
    """Give a source (new or existing) a fresh write key and save it; any old key stops working at once.

    Returns the key: the only time a server source's key can be read. `write_key` fixes the key
    instead of generating one; only the demo seed uses it.
    """
    key = write_key or write_key_generate(kind=source.kind)
    source.write_key_hash = write_key_digest(key)
    source.write_key_hint = key[:7]
    source.public_write_key = key if source.kind == Source.Kind.BROWSER else ""
    source.revoked_at = None
    source.full_clean()
    source.save()
    return key


@transaction.atomic
def source_create(
    *, workspace: Workspace, name: str, kind: str, allowed_origins: str = "", write_key: str | None = None
) -> tuple[Source, str]:
    """Create a source and return it with its write key."""
    source = Source(workspace=workspace, name=name, kind=kind, allowed_origins=allowed_origins)
    return source, source_issue_key(source=source, write_key=write_key)


def source_revoke_key(*, source: Source) -> None:
    """Revoke the source's write key; requests with it get 401 from the next one on."""
    source.revoked_at = timezone.now()
    source.save(update_fields=["revoked_at"])
