from django.contrib import admin, messages

from forwarding.models import Delivery, DeliveryAttempt
from forwarding.services import deliveries_replay


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["started_at", "status_code", "latency_ms", "error", "response_body"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-started_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The outbox, read-only: its rows change only by being sent or replayed."""

    list_display = ["id", "kind", "state", "attempts", "last_status_code", "lane", "created_at", "delivered_at"]
    list_filter = ["state", "kind", "workspace"]
    search_fields = ["=lane", "=event__id"]
    readonly_fields = [field.name for field in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = ["replay"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    @admin.action(description="Replay (failed, dead or dry-run deliveries)", permissions=["view"])
    def replay(self, request, queryset):
        count = deliveries_replay(deliveries=queryset)
        messages.success(request, f"{count} deliveries queued to be sent again.")
