from django.contrib import admin

from identities.models import (
    DuplicateDismissal,
    Identity,
    IdentityPolicy,
    IdentityWarning,
    Merge,
    Person,
    Split,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Resolution's records are evidence: merges and splits go through services, never admin edits."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class IdentityInline(admin.TabularInline):
    model = Identity
    fields = ["kind", "value", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["id", "customer_id", "email", "is_identified", "merged_into", "suppression", "last_seen"]
    list_filter = ["is_identified", "suppression", "workspace"]
    search_fields = ["=id", "=customer_id", "email", "=identities__value"]
    raw_id_fields = ["merged_into"]
    inlines = [IdentityInline]
    show_full_result_count = False


@admin.register(Identity)
class IdentityAdmin(ReadOnlyAdmin):
    list_display = ["kind", "value", "person", "created_at"]
    list_filter = ["kind", "workspace"]
    search_fields = ["=value"]
    raw_id_fields = ["person"]
    show_full_result_count = False


@admin.register(Merge)
class MergeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "reason", "survivor", "merged_away", "event", "actor"]
    list_filter = ["reason", "workspace"]
    raw_id_fields = ["survivor", "merged_away", "event"]
    date_hierarchy = "created_at"


@admin.register(Split)
class SplitAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "person", "new_person", "actor"]
    raw_id_fields = ["person", "new_person"]


@admin.register(IdentityWarning)
class IdentityWarningAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "values", "person", "event"]
    list_filter = ["kind", "workspace"]
    raw_id_fields = ["person", "event"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(IdentityPolicy)
class IdentityPolicyAdmin(admin.ModelAdmin):
    list_display = ["workspace", "use_default_blocklist", "max_id_bytes", "nul_is_illegal"]


@admin.register(DuplicateDismissal)
class DuplicateDismissalAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "group_key", "person_ids", "actor"]
