"""Reads for GDPR requests."""

from identities.models import Person
from identities.normalize import email_normalize
from identities.selectors import SEAM_REFERENCE, person_get_by_any_identifier
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
