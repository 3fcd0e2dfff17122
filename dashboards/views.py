"""The dashboards' pages: each parses its input, calls one selector or service, and renders.

Every page is scoped to a workspace in its URL; `access.role_required` logs the user in, checks the
role and loads the workspace. Writes are POST-only (CSRF-checked by Django's middleware) and audited.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboards import selectors
from dashboards.access import Role, role_required, user_roles
from dashboards.forms import DismissForm, MergeForm, ReplayForm, SourceKeyForm, SplitForm
from dashboards.services import (
    delivery_review_replay,
    duplicate_review_dismiss,
    duplicate_review_merge,
    health_review_refresh,
    person_review_split,
    source_review_issue_key,
    source_review_revoke_key,
)
from forwarding.models import Delivery
from identities.models import Identity, Person
from identities.selectors import CIO_ID, SEAM_REFERENCE
from identities.services import PersonChangeRefused
from segments.selectors import UnknownSegment, segment_members
from workspaces.models import Source, Workspace

SESSION_WORKSPACE = "seam_dashboard_workspace"
# The pages a workspace switch may land on, and the first page of each role.
SWITCHABLE = ("health", "duplicates", "customers", "deliveries", "audit", "sources")
HOME_BY_ROLE = ((Role.MARKETER, "health"), (Role.SUPPORT, "customers"))


class LoginView(auth_views.LoginView):
    """Staff sign-in for the dashboards (the admin's form: a non-staff account is refused here)."""

    template_name = "dashboards/login.html"
    authentication_form = AdminAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("dashboards:home")


class LogoutView(auth_views.LogoutView):
    next_page = "dashboards:login"


def _render(request: HttpRequest, template: str, context: dict, *, page: str) -> HttpResponse:
    workspace = getattr(request, "workspace", None)
    if workspace is not None:
        request.session[SESSION_WORKSPACE] = workspace.pk
    roles = user_roles(request.user)
    return render(
        request,
        template,
        {
            **context,
            "workspace": workspace,
            "workspaces": list(Workspace.objects.order_by("environment", "name")),
            "page": page,
            "roles": {role.value for role in roles},
            "is_admin": Role.ADMIN in roles,
        },
    )


@role_required(Role.MARKETER, Role.SUPPORT, Role.ADMIN)
def home(request: HttpRequest) -> HttpResponse:
    """To the last workspace this user looked at, on the first page of the user's role."""
    workspace = (
        Workspace.objects.filter(pk=request.session.get(SESSION_WORKSPACE)).first()
        or Workspace.objects.order_by("environment", "name").first()
    )
    if workspace is None:
        return _render(request, "dashboards/empty.html", {}, page="home")
    roles = user_roles(request.user)
    page = next((page for role, page in HOME_BY_ROLE if role in roles), "health")
    return redirect(f"dashboards:{page}", workspace_id=workspace.pk)


@role_required(Role.MARKETER, Role.SUPPORT, Role.ADMIN)
def workspace_switch(request: HttpRequest) -> HttpResponse:
    workspace = get_object_or_404(Workspace, pk=request.GET.get("workspace") or 0)
    page = request.GET.get("page", "")
    try:
        return redirect(f"dashboards:{page if page in SWITCHABLE else 'health'}", workspace_id=workspace.pk)
    except NoReverseMatch:  # pragma: no cover - SWITCHABLE names real pages
        raise Http404 from None


def _period(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", selectors.DEFAULT_PERIOD))
    except ValueError:
        return selectors.DEFAULT_PERIOD
    return days if days in selectors.PERIODS else selectors.DEFAULT_PERIOD


# --- Health ----------------------------------------------------------------------------------------


@role_required(Role.MARKETER)
def health(request: HttpRequest) -> HttpResponse:
    overview = selectors.health_overview(workspace=request.workspace, days=_period(request))
    return _render(request, "dashboards/health.html", {"o": overview, "periods": selectors.PERIODS}, page="health")


@require_POST
@role_required(Role.ADMIN)
def health_refresh(request: HttpRequest) -> HttpResponse:
    health = health_review_refresh(workspace=request.workspace, actor=request.user)
    messages.success(request, f"Figures recomputed in {health.refresh_ms:,} ms.")
    return redirect("dashboards:health", workspace_id=request.workspace.pk)


@role_required(Role.MARKETER, Role.SUPPORT)
def segment(request: HttpRequest, key: str) -> HttpResponse:
    """A segment's members, live and paged: who is in it now, to fix or to contact."""
    try:
        number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        number = 1
    try:
        members = segment_members(workspace=request.workspace, key=key.upper(), page=number)
    except UnknownSegment:
        raise Http404("no such segment") from None
    rows = selectors.segments_overview(workspace=request.workspace, start=_days_ago(selectors.DEFAULT_PERIOD))
    row = next(row for row in rows if row.key == members.segment.key)
    return _render(request, "dashboards/segment.html", {"members": members, "row": row}, page="health")


def _days_ago(days: int):
    return timezone.now().date() - timedelta(days=days - 1)


# --- Deliveries ---------------------------------------------------------------------------------------


@role_required(Role.MARKETER)
def deliveries(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in ("", Delivery.State.FAILED, Delivery.State.DEAD):
        state = ""
    errors = selectors.delivery_errors(workspace=request.workspace, limit=50, state=state)
    return _render(request, "dashboards/deliveries.html", {"errors": errors, "state": state}, page="deliveries")


@require_POST
@role_required(Role.ADMIN)
def delivery_replay(request: HttpRequest) -> HttpResponse:
    form = ReplayForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing to replay: choose a delivery or a state.")
    else:
        delivery_id = form.cleaned_data["delivery"]
        count = delivery_review_replay(
            workspace=request.workspace,
            actor=request.user,
            delivery_ids=[delivery_id] if delivery_id else [],
            state="" if delivery_id else form.cleaned_data["state"],
        )
        if count:
            messages.success(request, f"{count:,} {'delivery' if count == 1 else 'deliveries'} queued to send again.")
        else:
            messages.info(request, "Nothing was replayed: only failed, dead or dry-run deliveries can be.")
    return _back(request, "dashboards:deliveries")


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form was on (only within this site), else to `default`."""
    target = request.POST.get("next", "")
    if target.startswith("/dashboards/") and not target.startswith("//"):
        return redirect(target)
    return redirect(default, workspace_id=request.workspace.pk)


# --- Duplicate review ----------------------------------------------------------------------------------


@role_required(Role.MARKETER)
def duplicates(request: HttpRequest) -> HttpResponse:
    groups, total = selectors.duplicate_review(workspace=request.workspace)
    recent = selectors.merges_recent(workspace=request.workspace)
    return _render(
        request, "dashboards/duplicates.html", {"groups": groups, "total": total, "recent": recent}, page="duplicates"
    )


@require_POST
@role_required(Role.ADMIN)
def duplicate_merge(request: HttpRequest) -> HttpResponse:
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose which person to keep.")
        return redirect("dashboards:duplicates", workspace_id=request.workspace.pk)
    try:
        merges = duplicate_review_merge(
            workspace=request.workspace,
            survivor_id=form.cleaned_data["survivor"],
            person_ids=form.cleaned_data["person_ids"],
            actor=request.user,
        )
    except PersonChangeRefused as refused:
        messages.error(request, f"Not merged: {refused}.")
    else:
        messages.success(
            request,
            f"Merged {len(merges)} {'profile' if len(merges) == 1 else 'profiles'} into person "
            f"{form.cleaned_data['survivor']}; Customer.io hears about it next (see below).",
        )
    return redirect("dashboards:duplicates", workspace_id=request.workspace.pk)


@require_POST
@role_required(Role.ADMIN)
def duplicate_dismiss(request: HttpRequest) -> HttpResponse:
    form = DismissForm(request.POST)
    if form.is_valid():
        duplicate_review_dismiss(
            workspace=request.workspace,
            group_key=form.cleaned_data["group_key"],
            person_ids=form.cleaned_data["person_ids"],
            actor=request.user,
        )
        messages.success(request, "Dismissed: the group comes back only if someone new joins it.")
    return redirect("dashboards:duplicates", workspace_id=request.workspace.pk)


# --- Customers ----------------------------------------------------------------------------------------


@role_required(Role.SUPPORT)
def customers(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:300]
    if query:
        person = selectors.customer_find(workspace=request.workspace, value=query)
        if person is not None:
            return redirect(
                reverse("dashboards:person", args=[request.workspace.pk, person.pk]) + "?" + _query_string(q=query)
            )
    # Nobody found: a Customer.io cio_id deserves its own answer, since Seam can never know one.
    context = {"query": query, "query_is_cio_id": bool(CIO_ID.match(query))}
    return _render(request, "dashboards/customers.html", context, page="customers")


def _query_string(**params) -> str:
    return urlencode({key: value for key, value in params.items() if value})


@role_required(Role.SUPPORT)
def person(request: HttpRequest, person_id: int) -> HttpResponse:
    found = get_object_or_404(Person, workspace=request.workspace, pk=person_id)
    if found.merged_into_id is not None:
        messages.info(request, f"Person {found.pk} was merged into this one.")
        return redirect("dashboards:person", workspace_id=request.workspace.pk, person_id=found.merged_into_id)
    card = selectors.person_card(person=found)
    timeline = selectors.person_timeline(person=found, before=request.GET.get("before", "")[:26])
    query = request.GET.get("q", "")
    return _render(
        request,
        "dashboards/person.html",
        {
            "card": card,
            "timeline": timeline,
            "query": query,
            "found_via": _found_via(query, found, card),
            "split_form": SplitForm(person_identities=card.identities),
        },
        page="customers",
    )


def _found_via(query: str, person: Person, card: selectors.PersonCard) -> str:
    """Why the search landed here, when it is not obvious: a merged-away profile or an order id."""
    if not query:
        return ""
    reference = SEAM_REFERENCE.match(query.strip())
    if reference and int(reference.group(1)) != person.pk:
        return f"{query} is a profile that was merged into this person."
    for merge in card.merges:
        if any(item["value"] == query.strip() for item in merge.moved_identities):
            return f"{query} came with person {merge.merged_away_id}, merged into this person ({merge.reason})."
    held = {identity.value for identity in card.identities} | {person.email}
    if query.strip() not in held and query.strip().lower() not in held:
        return f"{query} is not an identifier of this person: found through an order with that id."
    return ""


@require_POST
@role_required(Role.ADMIN)
def person_split(request: HttpRequest, person_id: int) -> HttpResponse:
    found = get_object_or_404(Person, workspace=request.workspace, pk=person_id, merged_into=None)
    form = SplitForm(request.POST, person_identities=Identity.objects.filter(person=found))
    if not form.is_valid():
        messages.error(request, "Choose one or more identifiers to move to a new person.")
    else:
        try:
            split = person_review_split(person=found, identity_ids=form.cleaned_data["identities"], actor=request.user)
        except PersonChangeRefused as refused:
            messages.error(request, f"Not split: {refused}.")
        else:
            messages.success(request, f"Split off person {split.new_person_id}.")
    return redirect("dashboards:person", workspace_id=request.workspace.pk, person_id=found.pk)


@role_required(Role.SUPPORT)
def event_raw(request: HttpRequest, event_id: str) -> HttpResponse:
    """The stored message and what was sent for it, as JSON: fetched when a reader opens "raw"."""
    event = selectors.event_detail(workspace=request.workspace, event_id=event_id[:26])
    if event is None:
        raise Http404("no such event in this workspace")
    return JsonResponse(
        {
            "event": selectors.event_raw(event),
            "deliveries": [
                {
                    "id": delivery.pk,
                    "kind": delivery.kind,
                    "state": delivery.state,
                    "request": delivery.request,
                    "attempts": [
                        {
                            "started_at": attempt.started_at.isoformat(),
                            "status_code": attempt.status_code,
                            "latency_ms": attempt.latency_ms,
                            "error": attempt.error,
                            "response_body": attempt.response_body,
                        }
                        for attempt in delivery.attempt_log.all()
                    ],
                }
                for delivery in event.deliveries.all()
            ],
        },
        json_dumps_params={"indent": 2},
    )


# --- Admin: audit and sources ---------------------------------------------------------------------------


@role_required(Role.ADMIN)
def audit(request: HttpRequest) -> HttpResponse:
    entries = selectors.audit_entries(workspace=request.workspace)
    return _render(request, "dashboards/audit.html", {"entries": entries}, page="audit")


@role_required(Role.ADMIN)
def sources(request: HttpRequest) -> HttpResponse:
    new_key = request.session.pop("seam_new_key", None)
    return _render(
        request,
        "dashboards/sources.html",
        {"sources": selectors.sources_for(workspace=request.workspace), "new_key": new_key},
        page="sources",
    )


@require_POST
@role_required(Role.ADMIN)
def source_key(request: HttpRequest) -> HttpResponse:
    form = SourceKeyForm(request.POST)
    if form.is_valid():
        source = get_object_or_404(Source, workspace=request.workspace, pk=form.cleaned_data["source"])
        if form.cleaned_data["action"] == "issue":
            key = source_review_issue_key(source=source, actor=request.user)
            # Shown once, on the next page: a server key is never stored in the clear.
            request.session["seam_new_key"] = {"source": source.name, "key": key}
            messages.success(request, f"New write key for {source.name}; the old one no longer works.")
        else:
            source_review_revoke_key(source=source, actor=request.user)
            messages.success(request, f"The write key of {source.name} is revoked.")
    return redirect("dashboards:sources", workspace_id=request.workspace.pk)
