"""Tracking plans are edited here; every save marks the plan changed so ingest re-reads it."""

from django.contrib import admin

from tracking.models import OrderSeen, PlannedEvent, PlannedProperty, PropertyAlias, PropertyType, TrackingPlan
from tracking.services import tracking_plan_touch


class PlannedEventInline(admin.TabularInline):
    model = PlannedEvent
    fields = ["name", "mode", "aliases", "description"]
    extra = 0
    show_change_link = True


class PropertyAliasInline(admin.TabularInline):
    model = PropertyAlias
    fields = ["alias", "name", "event"]
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "event" and request.resolver_match and request.resolver_match.kwargs.get("object_id"):
            kwargs["queryset"] = PlannedEvent.objects.filter(plan_id=request.resolver_match.kwargs["object_id"])
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PlanTouchingAdmin(admin.ModelAdmin):
    """Saving or deleting anything of a plan marks the plan changed (ingest caches compiled plans)."""

    def plan_of(self, obj) -> TrackingPlan:
        raise NotImplementedError

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        tracking_plan_touch(plan=self.plan_of(form.instance))

    def delete_model(self, request, obj) -> None:
        plan = self.plan_of(obj)
        super().delete_model(request, obj)
        tracking_plan_touch(plan=plan)

    def delete_queryset(self, request, queryset) -> None:
        plans = {self.plan_of(obj).pk: self.plan_of(obj) for obj in queryset}
        super().delete_queryset(request, queryset)
        for plan in plans.values():
            tracking_plan_touch(plan=plan)


@admin.register(TrackingPlan)
class TrackingPlanAdmin(PlanTouchingAdmin):
    list_display = ["workspace", "unplanned_events", "storm_window_seconds", "order_confirmation_window_seconds"]
    fields = ["workspace", "unplanned_events", "storm_window_seconds", "order_confirmation_window_seconds"]
    inlines = [PlannedEventInline, PropertyAliasInline]

    def plan_of(self, obj) -> TrackingPlan:
        return obj

    def delete_model(self, request, obj) -> None:
        admin.ModelAdmin.delete_model(self, request, obj)  # ingest notices the plan is gone (and re-seeds it)

    def delete_queryset(self, request, queryset) -> None:
        admin.ModelAdmin.delete_queryset(self, request, queryset)


class PlannedPropertyInline(admin.TabularInline):
    model = PlannedProperty
    fields = ["name", "type", "required", "normalization", "allowed_values", "item_shape"]
    extra = 0


@admin.register(PlannedEvent)
class PlannedEventAdmin(PlanTouchingAdmin):
    list_display = ["name", "mode", "plan"]
    list_filter = ["mode", "plan__workspace"]
    search_fields = ["name", "aliases"]
    inlines = [PlannedPropertyInline]

    def plan_of(self, obj) -> TrackingPlan:
        return obj.plan


@admin.register(PropertyType)
class PropertyTypeAdmin(admin.ModelAdmin):
    """Type drift evidence: read-only."""

    list_display = ["event_name", "property", "type", "first_seen_at", "last_seen_at", "first_event"]
    list_filter = ["type", "workspace"]
    search_fields = ["event_name", "property"]
    raw_id_fields = ["first_event"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OrderSeen)
class OrderSeenAdmin(admin.ModelAdmin):
    """Who reported each order and which report was forwarded: read-only."""

    list_display = ["order_id", "browser_count", "server_count", "browser_seen_at", "server_seen_at", "released_at"]
    list_filter = ["workspace"]
    search_fields = ["=order_id"]
    raw_id_fields = ["browser_event", "server_event"]
    date_hierarchy = "last_seen_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
