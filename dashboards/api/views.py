"""Read-only people API for developers: the support lookup and timeline as JSON (DRF token auth).

Errors are {code, message} (events.api.errors); a token of a user without the support or admin role
gets 403, no token 401.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import selectors
from dashboards.access import Role, user_has_role
from dashboards.api.serializers import PeopleSerializer, PersonSerializer, TimelineSerializer
from dashboards.api.workspace import api_workspace
from events.api.errors import ApiError
from events.api.schema import ErrorSerializer
from identities.models import Person
from workspaces.models import Workspace

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="a parameter is missing or invalid"),
    401: OpenApiResponse(ErrorSerializer, description="no token, or an unknown one"),
    403: OpenApiResponse(ErrorSerializer, description="the token's user has no support or admin role"),
    404: OpenApiResponse(ErrorSerializer, description="no such person in this workspace"),
}
WORKSPACE = OpenApiParameter(
    "workspace", OpenApiTypes.INT, description="workspace id; may be left out when there is only one workspace"
)


class HasSupportRole(BasePermission):
    message = "your account has no support or admin role"

    def has_permission(self, request, view) -> bool:
        return request.user is not None and user_has_role(request.user, Role.SUPPORT)


class PeopleApiView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [HasSupportRole]

    def workspace(self, request: Request) -> Workspace:
        return api_workspace(request.query_params.get("workspace"))


def _card(person: Person) -> dict:
    card = selectors.person_card(person=person)
    return {
        "person": card.person,
        "identities": card.identities,
        "merges": card.merges,
        "splits": card.splits,
        "warnings": card.warnings,
    }


class PeopleSearchView(PeopleApiView):
    @extend_schema(
        operation_id="people_search",
        tags=["people"],
        summary="Find the live person by any identifier",
        description="An email, customer id, anonymous id, order id or Seam's `seam_` reference. Finds the "
        "survivor even through an identifier of a merged-away person. `results` holds that person, or is empty. "
        "Customer.io's own `cio_` ids are not Seam references: the Track API never returns them, so Seam cannot "
        "know whose one is, and it finds nobody unless it was sent to Seam as an identifier.",
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, required=True), WORKSPACE],
        responses={200: PeopleSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        if not query:
            raise ApiError(400, "invalid", "q is required: an email, customer id, anonymous id or order id", field="q")
        person = selectors.customer_find(workspace=self.workspace(request), value=query[:300])
        return Response(PeopleSerializer({"results": [_card(person)] if person else []}).data)


class PersonView(PeopleApiView):
    @extend_schema(
        operation_id="person_retrieve",
        tags=["people"],
        summary="One person: identifiers, traits, merges, splits and warnings",
        parameters=[WORKSPACE],
        responses={200: PersonSerializer, **ERRORS},
    )
    def get(self, request: Request, person_id: int) -> Response:
        person = _live_person(self.workspace(request), person_id)
        return Response(PersonSerializer(_card(person)).data)


class PersonTimelineView(PeopleApiView):
    @extend_schema(
        operation_id="person_timeline",
        tags=["people"],
        summary="One person's merged timeline, newest first",
        description="Events (anonymous and known), merges and splits, each event with its Customer.io "
        "deliveries and their attempts. Follow `next` for older items.",
        parameters=[
            WORKSPACE,
            OpenApiParameter("before", OpenApiTypes.STR, description="cursor: the last event id of the previous page"),
            OpenApiParameter("limit", OpenApiTypes.INT, description="events per page, 1 to 200 (50)"),
        ],
        responses={200: TimelineSerializer, **ERRORS},
    )
    def get(self, request: Request, person_id: int) -> Response:
        workspace = self.workspace(request)
        person = _live_person(workspace, person_id)
        try:
            limit = min(max(int(request.query_params.get("limit", 50)), 1), 200)
        except ValueError:
            raise ApiError(400, "invalid", "limit must be a number from 1 to 200", field="limit") from None
        page = selectors.person_timeline(person=person, before=request.query_params.get("before", "")[:26], size=limit)
        next_url = None
        if page.older:
            next_url = request.build_absolute_uri(
                f"{request.path}?workspace={workspace.pk}&limit={limit}&before={page.older}"
            )
        items = [
            {
                "kind": item.kind,
                "at": item.at,
                "event": item.event,
                "merge": item.merge,
                "split": item.split,
                "marks": [label for label, _ in item.marks],
                "deliveries": item.deliveries,
            }
            for item in page.items
        ]
        return Response(TimelineSerializer({"person": person.pk, "items": items, "next": next_url}).data)


def _live_person(workspace: Workspace, person_id: int) -> Person:
    """The person, or the survivor it was merged into (a tombstone's id keeps working)."""
    person = get_object_or_404(Person, workspace=workspace, pk=person_id)
    return person if person.merged_into_id is None else Person.objects.get(pk=person.merged_into_id)
