"""The plan is edited in the Django admin, and an edit reaches the next ingest request."""

from django.urls import reverse

from events.models import Event
from tracking.models import OrderSeen, PlannedEvent, PropertyType, TrackingPlan
from tracking.services import tracking_plan_ensure_default


def test_the_admin_lists_plans_events_types_and_orders(admin_client, workspace):
    plan = tracking_plan_ensure_default(workspace=workspace)
    event = PlannedEvent.objects.get(plan=plan, name="order_completed")
    for url in [
        reverse("admin:tracking_trackingplan_changelist"),
        reverse("admin:tracking_trackingplan_change", args=[plan.pk]),
        reverse("admin:tracking_plannedevent_change", args=[event.pk]),
        reverse("admin:tracking_propertytype_changelist"),
        reverse("admin:tracking_orderseen_changelist"),
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_blocking_an_event_in_the_admin_applies_to_the_next_request(admin_client, workspace, server):
    server.track("checkout_started", {"cart_id": "c-1", "value": 29, "currency": "USD"})
    plan = TrackingPlan.objects.get(workspace=workspace)
    event = PlannedEvent.objects.get(plan=plan, name="checkout_started")
    form = {
        "plan": plan.pk,
        "name": "checkout_started",
        "mode": "block",
        "aliases": "Checkout Started",
        "description": "",
        "properties-TOTAL_FORMS": "0",
        "properties-INITIAL_FORMS": "0",
    }
    response = admin_client.post(reverse("admin:tracking_plannedevent_change", args=[event.pk]), form)
    assert response.status_code == 302, response.content
    server.track("Checkout Started", {"cart_id": "c-1", "value": 29, "currency": "USD"})
    assert list(Event.objects.order_by("received_at", "id").values_list("hold", flat=True)) == ["", "blocked"]


def test_evidence_is_read_only(admin_client, workspace):
    assert admin_client.get(reverse("admin:tracking_propertytype_add")).status_code == 403
    assert admin_client.get(reverse("admin:tracking_orderseen_add")).status_code == 403
    assert not PropertyType.objects.exists() and not OrderSeen.objects.exists()


def test_held_events_are_visible_in_the_event_admin(admin_client, workspace, server):
    server.track("order_completed", {"order_id": "o-1"}, messageId="m-1")
    server.track("order_completed", {"order_id": "o-1"}, messageId="m-2")
    duplicate = Event.objects.get(message_id="m-2")
    response = admin_client.get(reverse("admin:events_event_changelist"), {"hold": "duplicate"})
    assert response.status_code == 200
    assert duplicate.pk in response.content.decode()
    assert Event.objects.get(message_id="m-1").pk not in response.content.decode()
