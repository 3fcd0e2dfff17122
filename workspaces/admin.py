from django import forms
from django.contrib import admin, messages
from django.db import transaction

from dashboards.audit import audit_record
from dashboards.models import AuditEntry
from workspaces.identity_verification import source_issue_identity_secret
from workspaces.models import Source, Workspace
from workspaces.services import source_issue_key, source_revoke_key


def _audit(request, source: Source, action: str) -> None:
    """Record an admin's act on a source's credentials: never the key or secret itself."""
    details = {"source": source.pk, "via": "admin"}
    if action != AuditEntry.Action.IDENTITY_SECRET_ISSUED:
        details["hint"] = source.write_key_hint  # the key's first 7 characters, as the source list shows
    audit_record(actor=request.user, workspace=source.workspace, action=action, target=str(source), details=details)


class WorkspaceForm(forms.ModelForm):
    track_api_url = forms.URLField(
        label="Track API URL",
        required=False,
        assume_scheme="https",
        help_text="Leave blank for the region's Track API; set it to aim at the local emulator.",
    )
    # The Track API key is a secret: never rendered back, and a blank field keeps the saved one.
    track_api_key = forms.CharField(
        label="Customer.io Track API key",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the saved key.",
    )

    class Meta:
        model = Workspace
        fields = [
            "name",
            "environment",
            "region",
            "track_api_url",
            "site_id",
            "track_api_key",
            "identifier_policy",
            "forwarding_paused",
            "forwarding_dry_run",
            "rate_limit_per_second",
        ]

    def clean_track_api_key(self) -> str:
        return self.cleaned_data["track_api_key"] or (self.instance.track_api_key if self.instance.pk else "")


class SourceInline(admin.TabularInline):
    model = Source
    fields = ["name", "kind", "enabled", "write_key_hint"]
    readonly_fields = ["name", "kind", "write_key_hint"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    form = WorkspaceForm
    list_display = ["name", "environment", "region", "identifier_policy", "track_api_key_hint"]
    list_filter = ["environment", "region"]
    search_fields = ["name"]
    inlines = [SourceInline]


class SourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = ["workspace", "name", "kind", "enabled", "allowed_origins", "require_identity_verification"]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = ["name", "workspace", "kind", "enabled", "key_state", "write_key_hint", "identity_verification"]
    list_filter = ["kind", "enabled", "workspace"]
    search_fields = ["name", "workspace__name"]
    readonly_fields = ["write_key_hint", "public_write_key", "revoked_at", "created_at"]
    actions = ["regenerate_keys", "revoke_keys", "issue_identity_secrets"]

    def get_readonly_fields(self, request, obj=None):
        # The kind decides whether the key is public; it cannot change under an existing key.
        return [*self.readonly_fields, "kind"] if obj else self.readonly_fields

    @admin.display(description="key")
    def key_state(self, source: Source) -> str:
        return "revoked" if source.revoked_at else "active"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        with transaction.atomic():
            key = source_issue_key(source=obj)
            _audit(request, obj, AuditEntry.Action.KEY_ISSUED)
        messages.warning(request, f"Write key for {obj}: {key} — copy it now; server keys are not shown again.")

    @admin.action(description="Regenerate write key (the old key stops working)")
    def regenerate_keys(self, request, queryset):
        for source in queryset:
            with transaction.atomic():
                key = source_issue_key(source=source)
                _audit(request, source, AuditEntry.Action.KEY_ISSUED)
            messages.warning(request, f"New write key for {source}: {key} — copy it now.")

    @admin.display(description="identity verification")
    def identity_verification(self, source: Source) -> str:
        # The secret itself is never rendered: only whether there is one, and whether it is required.
        if not source.identity_secret:
            return "no secret"
        return "required" if source.require_identity_verification else "secret set, not required"

    @admin.action(description="Issue identity verification secret (old user hashes stop verifying)")
    def issue_identity_secrets(self, request, queryset):
        for source in queryset.filter(kind=Source.Kind.BROWSER):
            with transaction.atomic():
                secret = source_issue_identity_secret(source=source)
                _audit(request, source, AuditEntry.Action.IDENTITY_SECRET_ISSUED)
            messages.warning(
                request,
                f"Identity secret for {source}: {secret} — put it in your site's backend now; it is not shown again.",
            )

    @admin.action(description="Revoke write key")
    def revoke_keys(self, request, queryset):
        for source in queryset:
            with transaction.atomic():
                source_revoke_key(source=source)
                _audit(request, source, AuditEntry.Action.KEY_REVOKED)
        messages.success(request, f"Revoked {queryset.count()} key(s).")
