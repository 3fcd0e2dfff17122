from django.urls import path

from dashboards.api import views

urlpatterns = [
    path("people/", views.PeopleSearchView.as_view(), name="api-people"),
    path("people/<int:person_id>/", views.PersonView.as_view(), name="api-person"),
    path("people/<int:person_id>/timeline/", views.PersonTimelineView.as_view(), name="api-person-timeline"),
]
