from django.urls import path

from dashboards import views

app_name = "dashboards"

workspace = "<int:workspace_id>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("switch/", views.workspace_switch, name="switch"),
    path(f"{workspace}health/", views.health, name="health"),
    path(f"{workspace}health/refresh/", views.health_refresh, name="health-refresh"),
    path(f"{workspace}segments/<str:key>/", views.segment, name="segment"),
    path(f"{workspace}deliveries/", views.deliveries, name="deliveries"),
    path(f"{workspace}deliveries/replay/", views.delivery_replay, name="delivery-replay"),
    path(f"{workspace}duplicates/", views.duplicates, name="duplicates"),
    path(f"{workspace}duplicates/merge/", views.duplicate_merge, name="duplicate-merge"),
    path(f"{workspace}duplicates/dismiss/", views.duplicate_dismiss, name="duplicate-dismiss"),
    path(f"{workspace}customers/", views.customers, name="customers"),
    path(f"{workspace}customers/<int:person_id>/", views.person, name="person"),
    path(f"{workspace}customers/<int:person_id>/split/", views.person_split, name="person-split"),
    path(f"{workspace}events/<str:event_id>/raw/", views.event_raw, name="event-raw"),
    path(f"{workspace}audit/", views.audit, name="audit"),
    path(f"{workspace}sources/", views.sources, name="sources"),
    path(f"{workspace}sources/key/", views.source_key, name="source-key"),
]
