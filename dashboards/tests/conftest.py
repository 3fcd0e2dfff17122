"""Personas for the dashboards' tests, one per role plus two outsiders, and a small shop's traffic.

Alice is a marketer, Bob works in support, Carol is an admin; Dave is not staff, Erin is staff with
no role. Traffic goes through the real ingest API, so resolution, merges and the outbox are real.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from dashboards.access import Role

PASSWORD = "correct horse battery staple"
PERSONAS = {
    "alice": {"role": Role.MARKETER, "staff": True},
    "bob": {"role": Role.SUPPORT, "staff": True},
    "carol": {"role": Role.ADMIN, "staff": True},
    "dave": {"role": Role.ADMIN, "staff": False},  # in the admin group, but not staff: still nothing
    "erin": {"role": None, "staff": True},
}


def persona_create(name: str):
    spec = PERSONAS[name]
    user = get_user_model().objects.create_user(
        username=name, password=PASSWORD, email=f"{name}@example.com", is_staff=spec["staff"]
    )
    if spec["role"]:
        user.groups.add(Group.objects.get_or_create(name=spec["role"].value)[0])
    return user


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Five personas per test: PBKDF2's deliberate slowness would be most of the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def personas(db) -> dict:
    return {name: persona_create(name) for name in PERSONAS}


@pytest.fixture
def as_user(personas):
    """A logged-in test client per persona: as_user("carol")."""

    def client_for(name: str, **options) -> Client:
        client = Client(**options)
        client.force_login(personas[name])
        return client

    return client_for


@dataclass
class Shop:
    """Sends Segment-spec batches through the real ingest API, as the browser or the server source."""

    browser: object
    server: object

    def send(self, *messages: dict, source: str = "server") -> None:
        client = self.server if source == "server" else self.browser
        response = client.post("/v1/batch", {"batch": list(messages)}, format="json")
        assert response.status_code == 200, response.content
        assert "rejected" not in response.json(), response.content


@pytest.fixture
def shop(api, browser_source) -> Shop:
    from rest_framework.test import APIClient

    from conftest import BROWSER_KEY, basic_auth

    browser = APIClient()
    browser.credentials(HTTP_AUTHORIZATION=basic_auth(BROWSER_KEY))
    return Shop(browser=browser, server=api)


def track(event: str, at: str, **fields) -> dict:
    return {"type": "track", "event": event, "timestamp": at, **fields}


def identify(at: str, **fields) -> dict:
    return {"type": "identify", "timestamp": at, **fields}
