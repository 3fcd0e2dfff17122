"""Outside the API, Django's error views render the project-wide pages in templates/ (config/error_views.py)."""

from django.conf import settings
from django.test import RequestFactory

from config import error_views

TEMPLATES_DIR = settings.BASE_DIR / "templates"


def test_it_answers_an_unknown_page_with_seams_404_page(client):
    response = client.get("/nowhere/")
    assert response.status_code == 404
    assert response.templates[0].origin.name == str(TEMPLATES_DIR / "404.html")
    assert b"Seam has nothing at <code>/nowhere/</code>" in response.content


def test_it_answers_a_server_error_outside_the_api_with_seams_500_page():
    response = error_views.server_error(RequestFactory().get("/dashboards/"))
    assert response.status_code == 500
    assert b"Seam could not answer this request" in response.content


def test_it_still_answers_a_server_error_on_the_api_with_json():
    response = error_views.server_error(RequestFactory().post("/v1/track"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
