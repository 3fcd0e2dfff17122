from django.db import models

from workspaces.regions import DEFAULT_TRACK_URLS


class Workspace(models.Model):
    """One Customer.io workspace: where a set of sources' data is forwarded."""

    class Environment(models.TextChoices):
        PRODUCTION = "production"
        STAGING = "staging"
        DEVELOPMENT = "development"

    class Region(models.TextChoices):
        US = "us", "US"
        EU = "eu", "EU"

    class IdentifierPolicy(models.TextChoices):
        ID = "id", "Customer id (email kept as an attribute)"
        EMAIL = "email", "Email"

    name = models.CharField(max_length=100, unique=True)
    environment = models.CharField(max_length=20, choices=Environment, default=Environment.PRODUCTION)
    region = models.CharField(max_length=2, choices=Region, default=Region.US)
    track_api_url = models.URLField(
        blank=True, help_text="Leave blank for the region's Track API; set it to aim at the local emulator."
    )
    site_id = models.CharField("Customer.io site id", max_length=100, blank=True)
    track_api_key = models.CharField("Customer.io Track API key", max_length=200, blank=True)
    identifier_policy = models.CharField(max_length=10, choices=IdentifierPolicy, default=IdentifierPolicy.ID)
    forwarding_paused = models.BooleanField(
        default=False, help_text="Hold forwarding (e.g. during a backfill); events keep being stored."
    )
    forwarding_dry_run = models.BooleanField(
        default=False, help_text="Record what would be sent to Customer.io instead of sending it."
    )
    rate_limit_per_second = models.PositiveIntegerField(
        default=100, help_text="Requests per second to Customer.io, shared by every worker."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"

    @property
    def effective_track_url(self) -> str:
        return (self.track_api_url or DEFAULT_TRACK_URLS[self.region]).rstrip("/")

    @property
    def track_api_key_hint(self) -> str:
        """The key as it may be shown after saving: its last four characters only."""
        return f"…{self.track_api_key[-4:]}" if self.track_api_key else ""


class Source(models.Model):
    """A sender of events (a site's browser snippet or a backend) with its own write key."""

    class Kind(models.TextChoices):
        BROWSER = "browser"
        SERVER = "server"

    # No index of its own: source_unique_name leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sources", db_index=False)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind)
    # Only a digest of the key is kept, so a leaked database does not leak server keys.
    write_key_hash = models.CharField(max_length=64, unique=True, editable=False)
    write_key_hint = models.CharField(max_length=16, editable=False)
    # A browser key is public by nature (it ships in every page), so it is kept to show again.
    public_write_key = models.CharField(max_length=64, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    allowed_origins = models.TextField(
        blank=True, help_text="Browser sources: one origin per line (https://shop.example). Empty allows any."
    )
    # Identity verification (workspaces/identity_verification.py): the site's backend signs user ids with
    # this secret; it is shown once when issued and never rendered again.
    identity_secret = models.CharField(max_length=64, blank=True, editable=False)
    require_identity_verification = models.BooleanField(
        default=False,
        help_text="Browser sources: an identify without a valid user hash is stored but merges nothing and "
        "changes no traits.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace__name", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="source_unique_name")]

    def __str__(self) -> str:
        return f"{self.workspace.name} / {self.name}"

    @property
    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]

    @property
    def accepts_writes(self) -> bool:
        return self.enabled and self.revoked_at is None
