"""Roles are enforced on every page and action: persona by persona, and for every URL the app has."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dashboards import urls as dashboard_urls
from dashboards.access import Role
from dashboards.models import AuditEntry
from dashboards.tests.conftest import PASSWORD
from identities.models import Person

pytestmark = pytest.mark.django_db

PAGES = {
    # page: roles that may open it (admin implies every reading role)
    "health": {"alice", "carol"},
    "duplicates": {"alice", "carol"},
    "deliveries": {"alice", "carol"},
    "customers": {"bob", "carol"},
    "audit": {"carol"},
    "sources": {"carol"},
}
ACTIONS = ["health-refresh", "delivery-replay", "duplicate-merge", "duplicate-dismiss", "source-key"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("persona", ["alice", "bob", "carol", "dave", "erin"])
def test_it_opens_each_page_only_for_the_roles_that_may_see_it(as_user, workspace, page, persona):
    response = as_user(persona).get(reverse(f"dashboards:{page}", args=[workspace.pk]))
    assert response.status_code == (200 if persona in PAGES[page] else 403)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", ["alice", "bob", "dave", "erin"])
def test_it_refuses_every_write_to_anyone_but_an_admin(as_user, workspace, action, persona):
    response = as_user(persona).post(reverse(f"dashboards:{action}", args=[workspace.pk]), {})
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_it_accepts_writes_only_by_post(as_user, workspace, action):
    response = as_user("carol").get(reverse(f"dashboards:{action}", args=[workspace.pk]))
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


def test_it_guards_every_dashboard_view_with_a_role():
    """A new page cannot forget its role check: every route but login and logout declares one."""

    def views(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield pattern

    unguarded = [
        pattern.name
        for pattern in views(dashboard_urls.urlpatterns)
        if not getattr(pattern.callback, "seam_roles", None) and pattern.name not in ("login", "logout")
    ]
    assert unguarded == []
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
