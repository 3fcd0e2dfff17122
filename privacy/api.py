"""The GDPR endpoints: POST /api/people/<identifier>/delete and /suppress, for staff holding the admin role.

`identifier` is any identifier support would search by (email, customer id, anonymous id, `seam_<id>`,
order id). Token or session authentication (with CSRF) as the dashboards' people API; errors are
{code, message}: 401 without credentials, 403 without the admin role, 404 when nobody matches, 409
when the person was already deleted or suppressed.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards.access import Role, user_has_role
from dashboards.api.workspace import api_workspace
from events.api.errors import ApiError
from events.api.schema import ErrorSerializer
from identities.models import Person
from privacy.models import Erasure
from privacy.selectors import person_find_for_erasure
from privacy.services import ErasureRefused, person_erase
from workspaces.models import Workspace


class HasAdminRole(BasePermission):
    message = "deleting or suppressing a person needs the admin role"

    def has_permission(self, request, view) -> bool:
        return request.user is not None and user_has_role(request.user, Role.ADMIN)


class ErasureSerializer(serializers.Serializer):
    erasure = serializers.IntegerField(help_text="the audit record's id")
    action = serializers.ChoiceField(Erasure.Action.choices)
    person = serializers.CharField(help_text="the person's `seam_` reference (its row stays, anonymized)")
    events_deleted = serializers.IntegerField()
    events_anonymized = serializers.IntegerField()
    identities_suppressed = serializers.IntegerField()
    deliveries_cancelled = serializers.IntegerField()
    customerio = serializers.CharField(help_text="queued, or not_known (an anonymous person)")


class PersonEraseView(APIView):
    """Delete or suppress one person; audited with the requesting user."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [HasAdminRole]
    action: str = ""

    def post(self, request: Request, identifier: str) -> Response:
        workspace = _workspace(request)
        found = person_find_for_erasure(workspace=workspace, value=identifier)
        if found is None:
            raise ApiError(404, "not_found", "no person in this workspace has that identifier")
        person, looked_up_by = found
        try:
            erasure = person_erase(
                person=person, action=self.action, actor=request.user, via="api", looked_up_by=looked_up_by
            )
        except ErasureRefused as refused:
            raise ApiError(409, "already_removed", str(refused)) from None
        return Response(
            {
                "erasure": erasure.pk,
                "action": erasure.action,
                "person": Person(pk=erasure.person_id).reference,
                "events_deleted": erasure.events_deleted,
                "events_anonymized": erasure.events_anonymized,
                "identities_suppressed": erasure.identities_suppressed,
                "deliveries_cancelled": erasure.deliveries_cancelled,
                "customerio": "queued" if erasure.delivery_id else "not_known",
            }
        )


def _workspace(request: Request) -> Workspace:
    value = request.query_params.get("workspace") or (
        request.data.get("workspace") if isinstance(request.data, dict) else None
    )
    return api_workspace(value)


def erase_view(action: str):
    described = extend_schema(
        operation_id=f"person_{action}",
        tags=["people"],
        summary=f"{action.title()} a person (GDPR)",
        description=(
            "Local events, traits and identities are removed, the identifiers are blocked at ingest, and "
            f"Customer.io receives `{action}` through the outbox. Needs the admin role."
        ),
        parameters=[
            OpenApiParameter("identifier", OpenApiTypes.STR, OpenApiParameter.PATH, description="any identifier"),
            OpenApiParameter("workspace", OpenApiTypes.INT, description="may be left out with one workspace"),
        ],
        request=None,
        responses={
            200: ErasureSerializer,
            400: OpenApiResponse(ErrorSerializer, description="the workspace is missing or invalid"),
            401: OpenApiResponse(ErrorSerializer, description="no credentials"),
            403: OpenApiResponse(ErrorSerializer, description="no admin role"),
            404: OpenApiResponse(ErrorSerializer, description="nobody has that identifier"),
            409: OpenApiResponse(ErrorSerializer, description="already deleted or suppressed"),
        },
    )
    view = type(f"Person{action.title()}View", (PersonEraseView,), {"action": action})
    return extend_schema_view(post=described)(view).as_view()
