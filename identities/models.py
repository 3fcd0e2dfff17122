from django.conf import settings
from django.db import models

from events.models import MAX_ID_CHARS, Event
from workspaces.models import Workspace


class Person(models.Model):
    """Seam's profile of one human in a workspace; a merged-away person is a tombstone naming its survivor."""

    class Suppression(models.TextChoices):
        NONE = "none"
        SUPPRESSED = "suppressed"
        DELETED = "deleted"

    # No index of its own: the person_ws_… indexes lead with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="people", db_index=False)
    customer_id = models.CharField(
        max_length=MAX_ID_CHARS, blank=True, help_text="Customer.io `id`; blank for leads and anonymous people"
    )
    email = models.CharField(max_length=MAX_ID_CHARS, blank=True, help_text="current email, trimmed and lower-cased")
    # Gmail dots and +tags folded: duplicate detection groups on it, nothing merges on it.
    email_folded = models.CharField(max_length=MAX_ID_CHARS, blank=True, editable=False)
    traits = models.JSONField(default=dict, blank=True)
    is_identified = models.BooleanField(default=False, help_text="holds a customer id or an email")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # Always the live survivor, never another tombstone: a merge repoints earlier tombstones (rule 10).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="tombstones", editable=False
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Rule 11: the GDPR issue sets this and removes local data; resolution already refuses to touch
    # a suppressed or deleted person, and identity_is_blocked() answers ingest.
    suppression = models.CharField(max_length=10, choices=Suppression, default=Suppression.NONE)
    suppressed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "people"
        indexes = [
            models.Index(fields=["workspace", "customer_id"], name="person_ws_customer_idx"),
            models.Index(fields=["workspace", "email_folded"], name="person_ws_email_folded_idx"),
            models.Index(fields=["workspace", "first_seen"], name="person_ws_first_seen_idx"),
        ]

    def __str__(self) -> str:
        label = self.customer_id or self.email or "anonymous"
        return f"{label} (person {self.pk})"

    @property
    def reference(self) -> str:
        """Seam's own stable reference to this person, accepted by the lookup.

        Not Customer.io's `cio_` id: Customer.io assigns that and the Track API never returns it.
        """
        return f"seam_{self.pk}"

    @property
    def is_live(self) -> bool:
        return self.merged_into_id is None

    @property
    def is_blocked(self) -> bool:
        return self.suppression != self.Suppression.NONE


class Identity(models.Model):
    """One (kind, value) of a workspace, pointing at the one person it identifies."""

    class Kind(models.TextChoices):
        ANONYMOUS_ID = "anonymous_id"
        USER_ID = "user_id"
        EMAIL = "email"

    # No index of its own: identity_unique_value leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="identities", db_index=False)
    kind = models.CharField(max_length=12, choices=Kind)
    value = models.CharField(max_length=MAX_ID_CHARS, help_text="email: normalized; other kinds: as received")
    # No index of its own: identity_person_kind_idx leads with it (tests/test_indexes.py).
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identities", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            # Rule 9: whoever inserts second gets an IntegrityError and re-reads instead of making a twin.
            models.UniqueConstraint(fields=["workspace", "kind", "value"], name="identity_unique_value"),
        ]
        indexes = [models.Index(fields=["person", "kind"], name="identity_person_kind_idx")]

    def __str__(self) -> str:
        return f"{self.kind}={self.value}"


class Merge(models.Model):
    """An audited merge: the merged-away person's identities moved to the survivor.

    Written in the transaction that merged; the forwarding issue adds its outbox row in that same
    transaction (see services._change_recorded), so a merge is never forwarded twice or lost.
    """

    class Reason(models.TextChoices):
        IDENTIFY = "identify"
        ALIAS = "alias"
        EMAIL_MATCH = "email_match"
        MANUAL = "manual"

    # No index of its own: merge_ws_created_idx leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="merges", db_index=False)
    survivor = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="merges_won")
    merged_away = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="merges_lost")
    reason = models.CharField(max_length=12, choices=Reason)
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # What Customer.io must hear about, as it was at merge time: [{"kind": ..., "value": ...}].
    moved_identities = models.JSONField(default=list)
    survivor_customer_id = models.CharField(max_length=MAX_ID_CHARS, blank=True)
    merged_away_customer_id = models.CharField(max_length=MAX_ID_CHARS, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "created_at"], name="merge_ws_created_idx")]

    def __str__(self) -> str:
        return f"{self.merged_away_id} → {self.survivor_id} ({self.reason})"


class Split(models.Model):
    """An audited split: chosen identities moved from a person to a new one (the undo of an over-merge)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="splits")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="splits_from")
    new_person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="splits_into")
    moved_identities = models.JSONField(default=list)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.person_id} → {self.new_person_id}"


class IdentityWarning(models.Model):
    """Something resolution refused or noticed, with the values and the event that caused it."""

    class Kind(models.TextChoices):
        ILLEGAL_ID = "illegal_id"
        SHARED_DEVICE = "shared_device"
        REFUSED_MERGE_IDENTIFIED = "refused_merge_identified"
        EMAIL_CONFLICT = "email_conflict"
        MERGE_RACE = "merge_race"
        BLOCKED_IDENTITY = "blocked_identity"
        UNVERIFIED_IDENTITY = "unverified_identity"  # a browser identify without a valid user hash

    # No index of its own: warning_ws_kind_created_idx leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="identity_warnings", db_index=False)
    kind = models.CharField(max_length=30, choices=Kind)
    values = models.JSONField(default=dict)
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="warnings")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "kind", "created_at"], name="warning_ws_kind_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.values}"


class IdentityPolicy(models.Model):
    """A workspace's rule 7 settings; a workspace without a row uses the defaults."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="identity_policy")
    use_default_blocklist = models.BooleanField(default=True, help_text="null, undefined, guest, 0, -1, …")
    extra_blocked_values = models.TextField(blank=True, help_text="one value per line, compared case-insensitively")
    allowed_values = models.TextField(blank=True, help_text="default values to allow after all, one per line")
    max_id_bytes = models.PositiveIntegerField(default=150)
    nul_is_illegal = models.BooleanField(default=True, help_text="ids that held a NUL byte never identify")

    class Meta:
        verbose_name_plural = "identity policies"

    def __str__(self) -> str:
        return f"identity policy of {self.workspace}"


class DuplicateDismissal(models.Model):
    """A reviewer's "not a duplicate" for a group; the group shows again only if someone new joins it."""

    # No index of its own: duplicate_dismissal_unique_key leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="duplicate_dismissals", db_index=False
    )
    group_key = models.CharField(max_length=300, help_text="email:<folded email> or anonymous_id:<value>")
    person_ids = models.JSONField(default=list, help_text="the group's members when dismissed")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "group_key"], name="duplicate_dismissal_unique_key"),
        ]

    def __str__(self) -> str:
        return self.group_key
