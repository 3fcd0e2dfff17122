from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config import error_views

urlpatterns = [
    path("", include("events.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[]), name="openapi-schema"),
    path("healthz", error_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("shop/", include("demo.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("api/", include("dashboards.api.urls")),
    path("api/", include("privacy.urls")),
]

handler400 = error_views.bad_request
handler403 = error_views.permission_denied
handler404 = error_views.page_not_found
handler500 = error_views.server_error
