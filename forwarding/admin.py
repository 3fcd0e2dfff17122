from django.contrib import admin, messages
from django.db import transaction

from dashboards.audit import audit_record
from dashboards.models import AuditEntry
from forwarding.models import Delivery, DeliveryAttempt
from forwarding.services import deliveries_replay
from workspaces.models import Workspace


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
        # One audit entry per workspace, so each workspace's audit log shows the replays of its deliveries.
        chosen: dict[int, list[int]] = {}
        for workspace_id, delivery_id in queryset.order_by("workspace_id", "pk").values_list("workspace_id", "pk"):
            chosen.setdefault(workspace_id, []).append(delivery_id)
        workspaces = Workspace.objects.in_bulk(list(chosen))
        count = 0
        for workspace_id, delivery_ids in chosen.items():
            with transaction.atomic():
                replayed = deliveries_replay(deliveries=Delivery.objects.filter(pk__in=delivery_ids))
                if replayed:
                    audit_record(
                        actor=request.user,
                        workspace=workspaces[workspace_id],
                        action=AuditEntry.Action.REPLAY,
                        target=f"{replayed} deliveries (admin)",
                        details={"delivery_ids": delivery_ids, "replayed": replayed, "via": "admin"},
                    )
            count += replayed
        messages.success(request, f"{count} deliveries queued to be sent again.")
