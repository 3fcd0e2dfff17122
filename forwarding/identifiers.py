"""How Seam names a person to Customer.io: the workspace's canonical identifier policy."""

from urllib.parse import quote

from identities.models import Person
from workspaces.models import Workspace


def person_identifier(*, person: Person, policy: str) -> tuple[str, str] | None:
    """("id", customer id) or ("email", email) by the workspace policy, falling back to the other;
    None for an anonymous person, whom Customer.io knows only through anonymous events."""
    by_id = (("id", person.customer_id), ("email", person.email))
    order = by_id[::-1] if policy == Workspace.IdentifierPolicy.EMAIL else by_id
    return next(((kind, value) for kind, value in order if value), None)


def customer_path(value: str) -> str:
    """The v1 path for a person; the identifier is percent-encoded (`@` → %40, `/` → %2F)."""
    return f"/api/v1/customers/{quote(value, safe='')}"


def lane_for(person_id: int) -> str:
    return f"p:{person_id}"
