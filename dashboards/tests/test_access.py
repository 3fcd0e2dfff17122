"""Roles are enforced on every page and action: persona by persona, and for every URL the app has."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dashboards import urls as dashboard_urls
from dashboards.access import Role
from dashboards.models import AuditEntry
from dashboards.tests.conftest import PASSWORD
from events.models import Event
from identities.models import Person

pytestmark = pytest.mark.django_db

M, S, A = Role.MARKETER, Role.SUPPORT, Role.ADMIN

# The role matrix: every dashboards URL and the roles its view must declare. Admin holds every role, so
# an admin opens every page; the writes are declared admin-only and accept only POST.
PAGES = {
    "health": {M},
    "segment": {M, S},
    "deliveries": {M},
    "duplicates": {M},
    "customers": {S},
    "person": {S},
    "event-raw": {S},
    "audit": {A},
    "sources": {A},
}
ACTIONS = {
    "health-refresh": {A},
    "delivery-replay": {A},
    "duplicate-merge": {A},
    "duplicate-dismiss": {A},
    "person-split": {A},
    "source-key": {A},
}
NAVIGATION = {"home": {M, S, A}, "switch": {M, S, A}}  # redirects to a page of the user's role
PUBLIC = {"login", "logout"}
MATRIX = PAGES | ACTIONS | NAVIGATION

# What each persona holds (dashboards/tests/conftest.py): Carol is an admin, so she holds every role; Dave is
# in the admin group but not staff, Erin is staff with no group: neither holds any.
PERSONA_ROLES = {"alice": {M}, "bob": {S}, "carol": {M, S, A}, "dave": set(), "erin": set()}


def may(persona: str, name: str) -> bool:
    return bool(PERSONA_ROLES[persona] & MATRIX[name])


@pytest.fixture
def url_of(workspace, api):
    """The URL of a dashboards route in the workspace, with a real segment, person or event where it takes one."""

    def url(name: str) -> str:
        args = [workspace.pk]
        if name == "segment":
            args.append("S1")
        elif name in ("person", "person-split", "event-raw"):
            if not Person.objects.exists():
                api.post("/v1/identify", {"userId": "u-1", "traits": {"email": "ada@example.com"}}, format="json")
                api.post("/v1/track", {"userId": "u-1", "event": "product_viewed"}, format="json")
            args.append(Event.objects.get(name="product_viewed").pk if name == "event-raw" else Person.objects.get().pk)
        return reverse(f"dashboards:{name}", args=args)

    return url


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("persona", PERSONA_ROLES)
def test_it_opens_each_page_only_for_the_roles_that_may_see_it(as_user, url_of, page, persona):
    response = as_user(persona).get(url_of(page))
    assert response.status_code == (200 if may(persona, page) else 403)


@pytest.mark.parametrize("name", NAVIGATION)
@pytest.mark.parametrize("persona", PERSONA_ROLES)
def test_it_lets_every_role_and_no_one_else_navigate(as_user, workspace, name, persona):
    response = as_user(persona).get(reverse(f"dashboards:{name}"), {"workspace": workspace.pk, "page": "health"})
    assert response.status_code == (302 if may(persona, name) else 403)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", [persona for persona, roles in PERSONA_ROLES.items() if A not in roles])
def test_it_refuses_every_write_to_anyone_but_an_admin(as_user, url_of, action, persona):
    response = as_user(persona).post(url_of(action), {})
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_it_accepts_writes_only_by_post(as_user, url_of, action):
    response = as_user("carol").get(url_of(action))
    assert response.status_code == 405


def test_it_sends_a_visitor_without_a_session_to_the_login_page(client, workspace):
    url = reverse("dashboards:health", args=[workspace.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('dashboards:login')}?next={url}"


def test_it_logs_staff_in_and_lands_them_on_their_roles_first_page(personas, workspace):
    for name, landing in (("alice", "health"), ("bob", "customers"), ("carol", "health")):
        client = Client()
        response = client.post(reverse("dashboards:login"), {"username": name, "password": PASSWORD}, follow=True)
        assert response.redirect_chain[-1][0] == reverse(f"dashboards:{landing}", args=[workspace.pk])


def test_it_refuses_to_log_in_a_user_who_is_not_staff(personas):
    client = Client()
    response = client.post(reverse("dashboards:login"), {"username": "dave", "password": PASSWORD})
    assert response.status_code == 200
    assert "staff account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_checks_csrf_on_every_form(personas, workspace):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["carol"])
    response = client.post(reverse("dashboards:delivery-replay", args=[workspace.pk]), {"state": "dead"})
    assert response.status_code == 403
    page = client.get(reverse("dashboards:health", args=[workspace.pk])).content.decode()
    assert page.count('<form method="post"') == page.count("csrfmiddlewaretoken")


def test_it_scopes_pages_to_their_workspace(as_user, workspace, api):
    api.post("/v1/identify", {"userId": "u-1", "traits": {"email": "ada@example.com"}}, format="json")
    person = Person.objects.get(customer_id="u-1")
    from workspaces.services import workspace_ensure

    other, _ = workspace_ensure(name="Other", environment="staging")
    bob = as_user("bob")
    assert bob.get(reverse("dashboards:person", args=[workspace.pk, person.pk])).status_code == 200
    assert bob.get(reverse("dashboards:person", args=[other.pk, person.pk])).status_code == 404
    assert bob.get(reverse("dashboards:customers", args=[other.pk]), {"q": "u-1"}).status_code == 200  # not found


def test_it_switches_workspace_keeping_the_page(as_user, workspace):
    from workspaces.services import workspace_ensure

    other, _ = workspace_ensure(name="Other", environment="staging")
    response = as_user("alice").get(reverse("dashboards:switch"), {"workspace": other.pk, "page": "duplicates"})
    assert response["Location"] == reverse("dashboards:duplicates", args=[other.pk])
    page = as_user("alice").get(reverse("dashboards:health", args=[workspace.pk])).content.decode()
    assert 'optgroup label="Staging"' in page and 'optgroup label="Production"' in page


def test_it_guards_every_dashboard_view_with_the_roles_of_the_matrix():
    """A new page cannot forget its role check, nor declare a role other than the matrix says: every route but
    login and logout declares exactly its roles, and every route is in the matrix."""

    def views(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield pattern

    routes = list(views(dashboard_urls.urlpatterns))
    assert {pattern.name for pattern in routes} == set(MATRIX) | PUBLIC
    declared = {
        pattern.name: set(getattr(pattern.callback, "seam_roles", set()))
        for pattern in routes
        if pattern.name not in PUBLIC
    }
    assert declared == MATRIX
    assert any(isinstance(p, URLResolver) and "dashboards" in str(p.pattern) for p in get_resolver().url_patterns)


def test_the_migration_creates_the_three_roles():
    assert set(Group.objects.filter(name__in=[r.value for r in Role]).values_list("name", flat=True)) == {
        "marketer",
        "support",
        "admin",
    }
    admin = Group.objects.get(name="admin")
    assert admin.permissions.filter(codename="change_source").exists()
    assert admin.permissions.filter(codename="view_delivery").exists()


def test_the_admin_links_to_the_dashboards(admin_client):
    assert 'href="/dashboards/"' in admin_client.get("/admin/").content.decode()
