from django.contrib import admin

from events.models import Event, RejectedMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ingested data is evidence: the admin shows it and never edits it."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "name", "user_id", "anonymous_id", "source", "timestamp", "received_at", "hold"]
    list_filter = ["type", "source__kind", "hold", "workspace"]
    search_fields = ["=id", "=user_id", "=anonymous_id", "=message_id", "name"]
    list_select_related = ["source__workspace"]
    date_hierarchy = "received_at"
    show_full_result_count = False


@admin.register(RejectedMessage)
class RejectedMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "code", "field", "message", "source", "batch_index"]
    list_filter = ["code", "workspace"]
    list_select_related = ["source__workspace"]
    date_hierarchy = "received_at"
