from django.contrib import admin

from segments.models import SegmentSettings, SegmentSnapshot


@admin.register(SegmentSettings)
class SegmentSettingsAdmin(admin.ModelAdmin):
    list_display = ["workspace", "max_anonymous_ids"]


@admin.register(SegmentSnapshot)
class SegmentSnapshotAdmin(admin.ModelAdmin):
    """The segments' time series and their breaches: read-only, written by Celery beat."""

    list_display = ["taken_at", "workspace", "segment", "count", "expectation", "threshold", "breached"]
    list_filter = ["breached", "segment", "workspace"]
    date_hierarchy = "taken_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
