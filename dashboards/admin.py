from django.contrib import admin

from dashboards.models import AuditEntry

# The admin's "View site" link leads staff to the dashboards (and their own login).
admin.site.site_url = "/dashboards/"


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The dashboards' audit log, read-only: it is evidence."""

    list_display = ["created_at", "actor_username", "action", "target", "workspace"]
    list_filter = ["action", "workspace"]
    readonly_fields = [field.name for field in AuditEntry._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
