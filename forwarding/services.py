"""Sending the outbox to Customer.io: claim due deliveries, send them, record every attempt."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from forwarding.models import Delivery, DeliveryAttempt
from forwarding.rate_limit import rate_limit_take
from forwarding.retry import is_dead, is_retryable, next_attempt_at
from forwarding.selectors import delivery_oldest_pending_id
from forwarding.track_api import TrackApiClient, TrackResponse
from lib.any_of import pk_any_of, sql_any_of
from lib.literals import text_literal
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

MAX_BATCH_BYTES = 500_000  # Customer.io's v2 batch limit (500 KB), with room for the envelope
ENVELOPE_BYTES = 64
# What sending and recording a claimed delivery read; a claim loads nothing else (500 rows per claim).
CLAIMED_FIELDS = ("request", "send_alone", "attempts", "created_at")


@dataclass(slots=True)
class SendReport:
    requests: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    dead: int = 0
    dry_run: int = 0


@dataclass(slots=True)
class _Request:
    """One HTTP request to Customer.io and the deliveries it carries, in order (v2: their ops, encoded)."""

    deliveries: list[Delivery] = field(default_factory=list)
    ops: list[bytes] = field(default_factory=list)
    size: int = 0

    def call(self, client: TrackApiClient) -> TrackResponse:
        if self.ops:
            return client.batch(self.ops)
        request = self.deliveries[0].request
        return client.send(request["method"], request["path"], request["body"])


def delivery_claim_batch(*, workspace: Workspace, limit: int) -> list[Delivery]:
    """Claim due deliveries whose turn it is, oldest first, marking them `sending`.

    Per-person order: a barrier (identify, merge, delete, suppress) waits for every earlier open
    delivery of its lane and of its `after_lane`; any other delivery waits for an earlier open
    barrier, or for an earlier delivery that is retrying (so a later operation never overtakes a
    failing one). Postgres skips rows another worker holds (FOR UPDATE SKIP LOCKED); SQLite's
    IMMEDIATE transactions make claims one at a time.
    """
    now = timezone.now()
    # The states are written into the SQL: the partial indexes that serve this must serve its generic plan too.
    pending, open_states = text_literal(Delivery.State.PENDING), [text_literal(s) for s in Delivery.OPEN_STATES]
    earlier_open = Delivery.objects.filter(
        workspace_id=OuterRef("workspace_id"), pk__lt=OuterRef("pk"), state__in=open_states
    )
    in_lane = earlier_open.filter(lane=OuterRef("lane"))
    in_either_lane = earlier_open.filter(Q(lane=OuterRef("lane")) | Q(lane=OuterRef("after_lane")))
    blocking = in_lane.filter(Q(is_barrier=True) | Q(attempts__gt=0) & Q(state=pending))
    due = (
        Delivery.objects.filter(workspace=workspace, state=pending, next_attempt_at__lte=now)
        .filter(Q(is_barrier=False) | ~Exists(in_either_lane))
        .filter(Q(is_barrier=True) | ~Exists(blocking))
        .order_by("pk")
    )
    oldest = delivery_oldest_pending_id(workspace)  # the walk starts there, not at the first row ever sent
    if oldest is None:
        return []
    due = due.filter(pk__gte=oldest)
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        claimed = list(due.only(*CLAIMED_FIELDS)[:limit])
        if claimed:
            Delivery.objects.filter(pk_any_of([d.pk for d in claimed])).update(
                state=Delivery.State.SENDING, claimed_at=now
            )
    return claimed


def deliveries_send(
    *,
    workspace: Workspace,
    time_budget: float = 20.0,
    client: TrackApiClient | None = None,
    on_backlog: Callable[[], None] | None = None,
) -> SendReport:
    """Send what is due for one workspace until nothing is left or the time budget is spent.

    `on_backlog` is called whenever a claim comes back full (more is due than one claim holds): the
    task uses it to bring another worker in, within the workspace's shared rate limit.
    """
    report = SendReport()
    if workspace.forwarding_paused:
        return report
    client = client or TrackApiClient(
        base_url=workspace.effective_track_url, site_id=workspace.site_id, api_key=workspace.track_api_key
    )
    deadline = time.monotonic() + time_budget
    while time.monotonic() < deadline:
        claimed = delivery_claim_batch(workspace=workspace, limit=settings.SEAM_DELIVERY_CLAIM_SIZE)
        if not claimed:
            break
        if on_backlog is not None and len(claimed) == settings.SEAM_DELIVERY_CLAIM_SIZE:
            on_backlog()
        requests = requests_build(claimed)
        for index, request in enumerate(requests):
            if workspace.forwarding_dry_run:
                _finish(request.deliveries, Delivery.State.DRY_RUN)
                report.dry_run += len(request.deliveries)
                continue
            if not rate_limit_take(workspace=workspace, max_wait=max(0.0, deadline - time.monotonic())):
                _release([d for later in requests[index:] for d in later.deliveries])
                return report
            response = request.call(client)
            report.requests += 1
            deliveries_record_response(request.deliveries, response, report)
    return report


def requests_build(claimed: list[Delivery]) -> list[_Request]:
    """v1 deliveries go one per request; v2 operations share batches of at most 500 KB."""
    requests: list[_Request] = []
    batch = _Request()
    for delivery in claimed:
        if "op" not in delivery.request:
            requests.append(_Request([delivery]))
            continue
        op = orjson.dumps(delivery.request["op"])
        if delivery.send_alone:
            requests.append(_Request([delivery], [op]))
            continue
        if batch.deliveries and batch.size + len(op) + 1 > MAX_BATCH_BYTES - ENVELOPE_BYTES:
            requests.append(batch)
            batch = _Request()
        batch.deliveries.append(delivery)
        batch.ops.append(op)
        batch.size += len(op) + 1
    if batch.deliveries:
        requests.append(batch)
    return requests


def deliveries_record_response(deliveries: list[Delivery], response: TrackResponse, report: SendReport) -> None:
    """Record one attempt per delivery and move each to its next state."""
    now = timezone.now()
    _attempts_record(deliveries, response, now)
    status = response.status
    if status is not None and 200 <= status < 300 and status != 207:
        _finish(deliveries, Delivery.State.DELIVERED, status=status, now=now)
        report.delivered += len(deliveries)
    elif status == 207:
        refused = _refused_indexes(response)
        bad = [d for i, d in enumerate(deliveries) if i in refused]
        good = [d for i, d in enumerate(deliveries) if i not in refused]
        _finish(good, Delivery.State.DELIVERED, status=status, now=now)
        for index, delivery in enumerate(deliveries):
            if index in refused:
                _finish([delivery], Delivery.State.FAILED, status=status, error=refused[index], now=now)
        report.delivered += len(good)
        report.failed += len(bad)
    elif is_retryable(status):
        _retry(deliveries, response, now, report)
    elif status == 400 and len(deliveries) > 1:
        # One bad operation can make Customer.io refuse a whole batch: send each alone to find it.
        Delivery.objects.filter(pk_any_of([d.pk for d in deliveries])).update(
            state=Delivery.State.PENDING, send_alone=True, claimed_at=None, last_status_code=status
        )
        report.retrying += len(deliveries)
    else:
        _finish(deliveries, Delivery.State.FAILED, status=status, error=response.body[:500], now=now)
        report.failed += len(deliveries)


def deliveries_release_stuck() -> int:
    """Put back deliveries claimed by a worker that died mid-send (they are sent again)."""
    cutoff = timezone.now() - timedelta(seconds=settings.SEAM_DELIVERY_STUCK_AFTER_SECONDS)
    return Delivery.objects.filter(state=text_literal(Delivery.State.SENDING), claimed_at__lt=cutoff).update(
        state=Delivery.State.PENDING, claimed_at=None
    )


def deliveries_replay(*, deliveries) -> int:
    """Send failed, dead or dry-run deliveries again, as they were (same event ids: no duplicates)."""
    now = timezone.now()
    return (
        deliveries.filter(state__in=[Delivery.State.FAILED, Delivery.State.DEAD, Delivery.State.DRY_RUN])
        .exclude(request__has_key="refused")
        .update(
            state=Delivery.State.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            claimed_at=None,
            send_alone=False,
        )
    )


def _attempts_record(deliveries: list[Delivery], response: TrackResponse, now: datetime) -> None:
    """One attempt row per delivery, all alike but for the delivery, in one INSERT … SELECT.

    The same rows through bulk_create cost a model instance and a per-field preparation each: a
    third of a 500-delivery request's time in bench/profile_forwarding.py.
    """
    quote = connection.ops.quote_name
    table, deliveries_table = quote(DeliveryAttempt._meta.db_table), quote(Delivery._meta.db_table)
    columns = ", ".join(
        quote(DeliveryAttempt._meta.get_field(name).column)
        for name in ("delivery", "started_at", "status_code", "response_body", "error", "latency_ms")
    )
    ids = [delivery.pk for delivery in deliveries]
    started_at = connection.ops.adapt_datetimefield_value(now - timedelta(milliseconds=response.latency_ms))
    where, ids_params = sql_any_of("id", ids, vendor=connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(  # only quoted names from the models go into the text; every value is a parameter
            f"INSERT INTO {table} ({columns}) SELECT id, %s, %s, %s, %s, %s FROM {deliveries_table} WHERE {where}",  # noqa: S608
            [started_at, response.status, response.body, response.error, response.latency_ms, *ids_params],
        )


def _retry(deliveries: list[Delivery], response: TrackResponse, now: datetime, report: SendReport) -> None:
    error = response.error or response.body[:500]
    for delivery in deliveries:
        attempts = delivery.attempts + 1
        if is_dead(attempts=attempts, created_at=delivery.created_at, now=now):
            _finish([delivery], Delivery.State.DEAD, status=response.status, error=error, now=now, attempts=attempts)
            report.dead += 1
            continue
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.PENDING,
            attempts=attempts,
            claimed_at=None,
            next_attempt_at=next_attempt_at(now=now, attempts=attempts, retry_after=response.retry_after),
            last_status_code=response.status,
            last_error=error,
        )
        report.retrying += 1


def _finish(
    deliveries: list[Delivery],
    state: str,
    *,
    status: int | None = None,
    error: str = "",
    now: datetime | None = None,
    attempts: int | None = None,
) -> None:
    if not deliveries:
        return
    now = now or timezone.now()
    Delivery.objects.filter(pk_any_of([d.pk for d in deliveries])).update(
        state=state,
        attempts=attempts if attempts is not None else F("attempts") + 1,
        delivered_at=now if state == Delivery.State.DELIVERED else None,
        claimed_at=None,
        last_status_code=status,
        last_error=error,
    )


def _release(deliveries: list[Delivery]) -> None:
    """Unclaim without counting an attempt (the rate limit ran out of time, nothing was sent)."""
    Delivery.objects.filter(pk_any_of([d.pk for d in deliveries])).update(state=Delivery.State.PENDING, claimed_at=None)


def _refused_indexes(response: TrackResponse) -> dict[int, str]:
    errors = response.json().get("errors")
    refused = {}
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict) and isinstance(error.get("batch_index"), int):
            reason = " ".join(str(error.get(key, "")) for key in ("field", "message", "reason")).strip()
            refused[error["batch_index"]] = reason[:500]
    return refused
