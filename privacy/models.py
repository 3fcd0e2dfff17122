from django.conf import settings
from django.db import models

from forwarding.models import Delivery
from identities.models import Person
from workspaces.models import Workspace


class Erasure(models.Model):
    """An audited GDPR deletion or suppression of a person: who asked, what was removed, what Customer.io heard."""

    class Action(models.TextChoices):
        DELETE = "delete"  # Customer.io deletes the profile; a later call there would re-create it
        SUPPRESS = "suppress"  # Customer.io deletes the profile and blocks its identifiers

    # No index of its own: erasure_ws_created_idx leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="erasures", db_index=False)
    # The person row survives as an anonymized tombstone (no ids, email or traits), so this keeps its subject.
    person = models.ForeignKey(Person, null=True, on_delete=models.SET_NULL, related_name="erasures")
    action = models.CharField(max_length=10, choices=Action)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, blank=True, help_text="the actor's username at the time")
    via = models.CharField(max_length=10, blank=True, help_text="admin, api or shell")
    # The kind of identifier the person was found by (email, user_id, ...), never its value.
    looked_up_by = models.CharField(max_length=20, blank=True)
    events_deleted = models.PositiveIntegerField(default=0)
    events_anonymized = models.PositiveIntegerField(default=0, help_text="other people's events that named them")
    identities_suppressed = models.PositiveIntegerField(default=0)
    deliveries_cancelled = models.PositiveIntegerField(default=0)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="the Customer.io op"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "created_at"], name="erasure_ws_created_idx")]

    def __str__(self) -> str:
        return f"{self.action} person {self.person_id} by {self.actor_name or 'system'}"


class SuppressedIdentifier(models.Model):
    """An identifier of a deleted or suppressed person: ingest drops whatever carries it (rule 11).

    Only a SHA-256 digest is kept, never the value: the list outlives the person's data.
    """

    # No index of its own: suppressed_identifier_unique leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="suppressed_identifiers", db_index=False
    )
    digest = models.CharField(max_length=64)
    erasure = models.ForeignKey(Erasure, null=True, on_delete=models.SET_NULL, related_name="identifiers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "digest"], name="suppressed_identifier_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.digest[:12]}…"
