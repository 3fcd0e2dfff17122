from django.urls import path

from privacy.api import erase_view

# Mounted under /api/ beside the dashboards' people API: /api/people/<any identifier>/delete|suppress.
urlpatterns = [
    path(f"people/<path:identifier>/{action}", erase_view(action), name=f"api-person-{action}")
    for action in ("delete", "suppress")
]
