"""Short reads for tests: the live owner of an identity, the live people of a workspace."""

from identities.models import Identity, Person
from identities.selectors import person_for_identity


def person_by(workspace, kind: str, value: str) -> Person | None:
    return person_for_identity(workspace=workspace, kind=kind, value=value)


def by_user(workspace, value: str) -> Person | None:
    return person_by(workspace, Identity.Kind.USER_ID, value)


def by_anonymous(workspace, value: str) -> Person | None:
    return person_by(workspace, Identity.Kind.ANONYMOUS_ID, value)


def by_email(workspace, value: str) -> Person | None:
    return person_by(workspace, Identity.Kind.EMAIL, value)


def live_people(workspace):
    return Person.objects.filter(workspace=workspace, merged_into=None)
