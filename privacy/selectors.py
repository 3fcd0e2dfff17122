"""Reads for GDPR requests, and the suppression list ingest screens against."""

from collections.abc import Collection

from django.db import connection

from identities.models import Person
from identities.normalize import email_normalize
from identities.selectors import SEAM_REFERENCE, person_get_by_any_identifier
from lib.probes import rows_by_keys
from privacy.identifiers import identifier_digest
from privacy.models import SuppressedIdentifier
from workspaces.models import Workspace


def person_find_for_erasure(*, workspace: Workspace, value: str) -> tuple[Person, str] | None:
    """The live person an identifier names, and which kind of identifier it was (for the audit record)."""
    person = person_get_by_any_identifier(workspace=workspace, value=value)
    if person is None:
        return None
    value = value.strip()
    if SEAM_REFERENCE.match(value):
        kind = "seam_reference"
    elif email_normalize(value):
        kind = "email"
    else:
        kind = next((identity.kind for identity in person.identities.all() if identity.value == value), "order_id")
    return person, kind


def identifier_is_suppressed(*, workspace: Workspace, value: str) -> bool:
    """Whether an identifier value is on the workspace's suppression list (a deleted or suppressed person's)."""
    return SuppressedIdentifier.objects.filter(workspace=workspace, digest=identifier_digest(value)).exists()


def suppressed_digests(*, workspace_id: int, digests: Collection[str]) -> set[str]:
    """Which of these identifier digests are on the workspace's suppression list: one query per ingest request.

    On Postgres a statement of fixed text, so psycopg parses it once per process and Django compiles nothing
    (as an ORM `__in` query it was a tenth of a single message's CPU under gunicorn), each digest one probe of
    the unique (workspace, digest) index whatever the statistics (lib/probes.py).
    """
    if not digests:
        return set()
    if connection.vendor == "postgresql":
        rows = rows_by_keys(
            SuppressedIdentifier, workspace_id=workspace_id, key_columns=("digest",), keys=[(d,) for d in digests]
        )
        return {digest for (digest,) in rows}
    rows = SuppressedIdentifier.objects.filter(workspace_id=workspace_id, digest__in=list(digests))
    return set(rows.values_list("digest", flat=True))
