"""Who may see what: staff accounts, three roles held as groups, and the workspace every page is about.

marketer: the health dashboard, segments, the duplicate queue (read). support: customer lookup and
timelines. admin: everything the other two see, plus the acts: merges, dismissals, splits, replays,
sources and keys. A superuser holds every role. Anyone else, staff or not, gets nothing.
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from workspaces.models import Workspace


class Role(StrEnum):
    MARKETER = "marketer"
    SUPPORT = "support"
    ADMIN = "admin"


ALL_ROLES = frozenset(Role)


def user_roles(user) -> frozenset[Role]:
    """The roles a user holds; admin implies the reading roles. Non-staff and inactive users hold none."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return frozenset()
    if user.is_superuser:
        return ALL_ROLES
    cached = getattr(user, "_seam_roles", None)
    if cached is None:
        names = set(user.groups.filter(name__in=[role.value for role in Role]).values_list("name", flat=True))
        cached = ALL_ROLES if Role.ADMIN in names else frozenset(Role(name) for name in names)
        user._seam_roles = cached
    return cached


def user_has_role(user, *roles: Role) -> bool:
    return bool(user_roles(user) & set(roles))


def role_required(*roles: Role) -> Callable:
    """View decorator: log in first, then hold one of `roles`; a `workspace_id` kwarg becomes request.workspace."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), login_url=reverse("dashboards:login"))
            if not user_has_role(request.user, *roles):
                raise PermissionDenied("your account has no role that may open this page")
            if "workspace_id" in kwargs:
                request.workspace = get_object_or_404(Workspace, pk=kwargs.pop("workspace_id"))
            return view(request, *args, **kwargs)

        wrapped.seam_roles = frozenset(roles)  # read by the test that every view is guarded
        return wrapped

    return decorate
