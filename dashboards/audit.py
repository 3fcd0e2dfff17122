"""The audit log's one write: who did what to which workspace, from the dashboards or the Django admin.

Its own module, depending only on the AuditEntry model, so the admin modules of the apps dashboards is
built on (workspaces, forwarding) can record their actions without importing dashboards' services,
which import those apps. Callers write the entry in the transaction of the act it records. Never put a
secret (a write key, an identity secret, a Track API key) in `target` or `details`: the log is shown to
every admin.
"""

from django.contrib.auth.models import AbstractBaseUser

from dashboards.models import AuditEntry
from workspaces.models import Workspace


def audit_record(
    *, actor: AbstractBaseUser, workspace: Workspace | None, action: str, target: str, details: dict | None = None
) -> AuditEntry:
    return AuditEntry.objects.create(
        workspace=workspace,
        actor=actor,
        actor_username=actor.get_username(),
        action=action,
        target=target[:300],
        details=details or {},
    )
