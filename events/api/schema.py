"""The ingest contract as OpenAPI: serializers used only to describe, never on the hot path.

events.ingest.messages enforces the same rules without serializer overhead;
events/tests/test_openapi_contract.py holds the two together.
"""

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable machine-readable code, e.g. invalid_json, unauthorized")
    message = serializers.CharField(help_text="what is wrong, for a person")
    field = serializers.CharField(required=False, help_text="the message field at fault, when there is one")


class RejectedItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="position in the batch")
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField()


class IngestResponseSerializer(serializers.Serializer):
    rejected = RejectedItemSerializer(
        many=True, required=False, help_text="batch items not stored; absent when every item was stored"
    )


class _Common(serializers.Serializer):
    userId = serializers.CharField(required=False, allow_null=True, max_length=255)
    anonymousId = serializers.CharField(
        required=False, allow_null=True, max_length=255, help_text="userId or anonymousId is required"
    )
    messageId = serializers.CharField(
        required=False, max_length=200, help_text="de-duplicates retries from the same source"
    )
    timestamp = serializers.CharField(
        required=False, help_text="ISO-8601 with any offset, unix seconds, or unix milliseconds"
    )
    originalTimestamp = serializers.CharField(required=False)
    sentAt = serializers.CharField(required=False, help_text="with timestamp, corrects client clock skew")
    context = serializers.DictField(required=False)
    integrations = serializers.DictField(required=False)
    writeKey = serializers.CharField(required=False, help_text="the write key, when no Authorization header")


class IdentifySerializer(_Common):
    type = serializers.ChoiceField(["identify"], required=False)
    traits = serializers.DictField(required=False)


class TrackSerializer(_Common):
    type = serializers.ChoiceField(["track"], required=False)
    event = serializers.CharField(max_length=255)
    properties = serializers.DictField(required=False)


class PageSerializer(_Common):
    type = serializers.ChoiceField(["page"], required=False)
    name = serializers.CharField(required=False, max_length=255)
    properties = serializers.DictField(required=False)


class ScreenSerializer(PageSerializer):
    type = serializers.ChoiceField(["screen"], required=False)


class GroupSerializer(_Common):
    type = serializers.ChoiceField(["group"], required=False)
    groupId = serializers.CharField(max_length=255)
    traits = serializers.DictField(required=False)


class AliasSerializer(_Common):
    type = serializers.ChoiceField(["alias"], required=False)
    previousId = serializers.CharField(max_length=255)
    userId = serializers.CharField(max_length=255)


class BatchItemSerializer(_Common):
    type = serializers.ChoiceField(["identify", "track", "page", "screen", "group", "alias"])
    event = serializers.CharField(required=False, max_length=255, help_text="track")
    name = serializers.CharField(required=False, max_length=255, help_text="page, screen")
    properties = serializers.DictField(required=False)
    traits = serializers.DictField(required=False)
    groupId = serializers.CharField(required=False, max_length=255, help_text="group")
    previousId = serializers.CharField(required=False, max_length=255, help_text="alias")


class BatchSerializer(serializers.Serializer):
    batch = BatchItemSerializer(many=True, max_length=2500)
    context = serializers.DictField(required=False, help_text="applies to every item")
    integrations = serializers.DictField(required=False, help_text="applies to every item")
    sentAt = serializers.CharField(required=False)
    writeKey = serializers.CharField(required=False)


class _PipelinesSettings(serializers.Serializer):
    apiKey = serializers.CharField()
    apiHost = serializers.CharField(help_text="host:port/v1")
    protocol = serializers.ChoiceField(["http", "https"])


class _Integrations(serializers.Serializer):
    def get_fields(self):
        return {"Customer.io Data Pipelines": _PipelinesSettings()}


class SdkSettingsSerializer(serializers.Serializer):
    integrations = _Integrations()


MESSAGE_REQUESTS = {
    "identify": IdentifySerializer,
    "track": TrackSerializer,
    "page": PageSerializer,
    "screen": ScreenSerializer,
    "group": GroupSerializer,
    "alias": AliasSerializer,
}
BATCH_REQUEST = BatchSerializer
