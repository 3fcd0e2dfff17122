"""The shapes of the read-only people API (also what the OpenAPI schema describes)."""

from rest_framework import serializers


class IdentitySerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="anonymous_id, user_id (the customer id) or email")
    value = serializers.CharField()
    since = serializers.DateTimeField(source="created_at", help_text="when Seam first saw it")


class MergeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    merged_away = serializers.IntegerField(source="merged_away_id", help_text="the person that became a tombstone")
    survivor = serializers.IntegerField(source="survivor_id")
    reason = serializers.CharField(help_text="identify, alias, email_match or manual")
    at = serializers.DateTimeField(source="created_at")
    actor = serializers.CharField(source="actor.get_username", default=None, allow_null=True)
    event = serializers.CharField(source="event_id", allow_null=True, help_text="the event that caused it")
    moved_identities = serializers.ListField(child=serializers.DictField())


class SplitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    new_person = serializers.IntegerField(source="new_person_id")
    at = serializers.DateTimeField(source="created_at")
    actor = serializers.CharField(source="actor.get_username", default=None, allow_null=True)
    moved_identities = serializers.ListField(child=serializers.DictField())


class WarningSerializer(serializers.Serializer):
    kind = serializers.CharField()
    values = serializers.DictField()
    event = serializers.CharField(source="event_id", allow_null=True)
    at = serializers.DateTimeField(source="created_at")


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="person.pk")
    reference = serializers.CharField(
        source="person.reference",
        help_text="Seam's own `seam_<id>` reference; the search takes it. Not Customer.io's cio_id, which Seam "
        "never learns (the Track API does not return it)",
    )
    customer_id = serializers.CharField(source="person.customer_id")
    email = serializers.CharField(source="person.email")
    is_identified = serializers.BooleanField(source="person.is_identified")
    suppression = serializers.CharField(source="person.suppression", help_text="none, suppressed or deleted")
    first_seen = serializers.DateTimeField(source="person.first_seen")
    last_seen = serializers.DateTimeField(source="person.last_seen")
    traits = serializers.DictField(source="person.traits")
    identities = IdentitySerializer(many=True)
    merges = MergeSerializer(many=True, help_text="people merged into this one, newest first")
    splits = SplitSerializer(many=True)
    warnings = WarningSerializer(many=True, help_text="the latest identity warnings about this person")


class PeopleSerializer(serializers.Serializer):
    results = PersonSerializer(many=True, help_text="the live person the identifier finds, or nobody")


class AttemptSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    error = serializers.CharField()
    response_body = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="identify, event, anonymous_event, merge, delete or suppress")
    state = serializers.CharField(help_text="pending, sending, delivered, failed, dead or dry_run")
    attempts = AttemptSerializer(many=True, source="attempt_log.all")
    delivered_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()


class SourceSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField(help_text="browser or server")


class EventSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Seam's ULID, also the Customer.io event id")
    type = serializers.CharField()
    name = serializers.CharField()
    source = SourceSerializer()
    timestamp = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    user_id = serializers.CharField()
    anonymous_id = serializers.CharField()
    message_id = serializers.CharField()
    properties = serializers.DictField()
    traits = serializers.DictField()
    flags = serializers.ListField(child=serializers.CharField())


class TimelineItemSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="event, merge or split")
    at = serializers.DateTimeField()
    event = EventSerializer(allow_null=True)
    merge = MergeSerializer(allow_null=True)
    split = SplitSerializer(allow_null=True)
    marks = serializers.ListField(child=serializers.CharField(), help_text="what ingest and the plan noticed")
    deliveries = DeliverySerializer(many=True, help_text="what was sent to Customer.io for it")


class TimelineSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    items = TimelineItemSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="the URL of the next (older) page, or null")
