"""P3 (forwarding throughput within Customer.io's 100 requests/s) and P4 (ingest → emulator latency at a
steady 1,000 events/s). Run through bench/run.py (`make bench`).

Both run the whole stack: gunicorn, a Celery worker and beat, Postgres, Redis and the emulator, with
the workspace's default rate limit of 100 requests/s.
"""

import time
from pathlib import Path

import orjson
import requests

from bench.harness import (
    EMULATOR_KEY,
    EMULATOR_SITE,
    SCALE,
    emulator,
    forwarders,
    gunicorn,
    open_deliveries,
    sql,
    wait_drained,
    workspace_source,
    wrk,
)
from bench.ingest import lua_script
from bench.load import paced_batches, storefront_batch

BUDGET_REQUESTS_PER_SECOND = 100  # Customer.io's documented Track API budget per workspace
BACKLOG_EVENTS = int(100_000 * SCALE)
BACKLOG_RATE = 10_000  # events/s the backlog is offered at (ingest takes what it can)
STEADY_EVENTS_PER_SECOND = 1_000
STEADY_SECONDS = max(5, int(60 * SCALE))
STEADY_BATCH = 20  # 50 requests/s of 20 events, as a few busy backends would send
STEADY_ANONYMOUS_SHARE = 0.05  # anonymous events go one per v1 request: they spend the budget fastest


def run(env: dict, workdir: Path) -> list[dict]:
    return throughput(env, workdir) + latency(env, workdir)


def throughput(env: dict, workdir: Path) -> list[dict]:
    """A backlog of customer events, paused while it is ingested, then forwarded as fast as allowed."""
    with emulator(env) as emulator_url:
        source = workspace_source(env, emulator_url)
        workspace_id = source["workspace_id"]
        sql(env, "UPDATE workspaces_workspace SET forwarding_paused = true WHERE id = %s", workspace_id)
        with gunicorn(env) as server:
            preload = paced_batches(
                server.url,
                source["write_key"],
                events_per_second=BACKLOG_RATE,
                batch_size=100,
                seconds=BACKLOG_EVENTS / BACKLOG_RATE,
                prefix="p3",
            )
        backlog = open_deliveries(env, workspace_id)
        # What autovacuum does within a minute of a bulk load, done now, so the drain is measured on the
        # table production would have (bench/ANALYSIS.md, P3b): without statistics, plans differ (a segment
        # count at the maintenance worker's start became a 34 s scan taking a core).
        sql(env, "VACUUM ANALYZE")
        with forwarders(env):
            time.sleep(5)  # the worker and beat start before the clock does
            sql(env, "UPDATE workspaces_workspace SET forwarding_paused = false WHERE id = %s", workspace_id)
            drained = wait_drained(env, workspace_id)
        stats = _emulator_stats(emulator_url)
    ceiling = emulator_ceiling(env, workdir)

    ((first_attempt, last_delivered, delivered),) = sql(
        env,
        "SELECT min(a.started_at), max(d.delivered_at), count(DISTINCT d.id) FROM forwarding_delivery d "
        "JOIN forwarding_deliveryattempt a ON a.delivery_id = d.id WHERE d.workspace_id = %s AND d.state = 'delivered'",
        workspace_id,
    )
    seconds = (last_delivered - first_attempt).total_seconds()
    workspace = stats["workspaces"][EMULATOR_SITE]
    per_request = workspace["events_accepted"] / max(workspace["requests"], 1)
    rate = delivered / seconds
    note = (
        f"{len(preload.acked_at):,} events acknowledged, {backlog:,} deliveries queued, {delivered:,} delivered "
        f"in {seconds:.1f} s{'' if drained else ' (NOT drained)'}; {workspace['requests']:,} requests, "
        f"peak {stats['max_per_second']} requests/s"
    )
    return [
        {
            "id": "P3a",
            "measure": f"events per Customer.io request ({BACKLOG_EVENTS:,}-event backlog)",
            "value": per_request,
            "baseline_name": "target: 100 events/request",
            "baseline": 100,
            "target": ">= 1.00",
            "ok": per_request >= 100,
            "note": note,
        },
        {
            "id": "P3b",
            "measure": "events/s forwarded within 100 requests/s",
            "value": rate,
            "baseline_name": "10,000 events/s target",
            "baseline": 10_000,
            "target": ">= 1.00",
            "ok": rate >= 10_000 and stats["max_per_second"] <= BUDGET_REQUESTS_PER_SECOND,
            "note": f"the emulator's own ceiling with batches like these: {ceiling:,.0f} events/s",
        },
    ]


def latency(env: dict, workdir: Path) -> list[dict]:
    """Ingest acknowledged → accepted by the emulator, at a steady 1,000 events/s."""
    with emulator(env) as emulator_url:
        source = workspace_source(env, emulator_url, workspace="Bench steady")
        workspace_id = source["workspace_id"]
        with gunicorn(env) as server, forwarders(env):
            time.sleep(5)
            run = paced_batches(
                server.url,
                source["write_key"],
                events_per_second=STEADY_EVENTS_PER_SECOND,
                batch_size=STEADY_BATCH,
                seconds=STEADY_SECONDS,
                anonymous_share=STEADY_ANONYMOUS_SHARE,
                prefix="p4",
            )
            drained = wait_drained(env, workspace_id)
        received = _emulator_received(emulator_url)
        stats = _emulator_stats(emulator_url)

    ids = dict(sql(env, "SELECT message_id, id FROM events_event WHERE workspace_id = %s", workspace_id))
    latencies = sorted(
        received[ids[message]] - acked for message, acked in run.acked_at.items() if ids.get(message) in received
    )
    missing = len(run.acked_at) - len(latencies)
    p50, p95 = _percentile(latencies, 0.50), _percentile(latencies, 0.95)
    held_rate = run.events_per_second >= 0.95 * STEADY_EVENTS_PER_SECOND
    note = (
        f"{run.events_per_second:,.0f} events/s acknowledged ({STEADY_BATCH}/request, "
        f"{STEADY_ANONYMOUS_SHARE:.0%} anonymous), {len(latencies):,} matched in the emulator, {missing} missing"
        f"{'' if drained else ' (NOT drained)'}; client slip p95 {run.slip_p95_ms:.0f} ms; "
        f"peak {stats['max_per_second']} requests/s"
    )
    return [
        {
            "id": "P4",
            "measure": "latency ingest ack → emulator, p50 s (p95 in notes)",
            "value": p50,
            "baseline_name": "target p50 1 s",
            "baseline": 1.0,
            "target": "<= 1.00 (p95 <= 3 s)",
            # Met only at the rate asked for: latencies at a rate ingest could not hold say nothing of P4.
            "ok": p50 <= 1.0 and p95 <= 3.0 and missing == 0 and held_rate,
            "note": f"p95 {p95:.2f} s, max {latencies[-1] if latencies else float('nan'):.2f} s; {note}",
        }
    ]


def emulator_ceiling(env: dict, workdir: Path) -> float:
    """Events/s a fresh emulator accepts in v2 batches of 100 ~1 KB events, with wrk as fast as it can."""
    ops = [
        {
            "type": "person",
            "action": "event",
            "identifiers": {"id": f"ceiling-REQ-{item.get('userId', i)}"},
            "name": item["event"],
            "id": f"ULIDREQ{i:04d}",  # Customer.io's event ids are ULIDs
            "timestamp": 1763632800,
            "attributes": item["properties"],
        }
        for i, item in enumerate(storefront_batch(0, 100, anonymous_share=0, prefix="c"))
    ]
    body = orjson.dumps({"batch": ops})
    script = lua_script(workdir / "ceiling.lua", key=EMULATOR_SITE, password=EMULATOR_KEY, body=body)
    with emulator(env) as emulator_url:
        result = wrk(f"{emulator_url}/api/v2/batch", script, seconds=10, connections=4)
    if result.non_2xx or result.errors:
        raise RuntimeError(f"the emulator refused the ceiling batches: {result}")
    return result.requests_per_second * len(ops)


def _emulator_stats(emulator_url: str) -> dict:
    return requests.get(f"{emulator_url}/_emulator/stats", timeout=60).json()


def _emulator_received(emulator_url: str) -> dict[str, float]:
    """Event id → unix time the emulator accepted it, for people's events and anonymous events."""
    people = requests.get(f"{emulator_url}/_emulator/people", timeout=120).json()["people"]
    anonymous = requests.get(f"{emulator_url}/_emulator/anonymous_events", timeout=120).json()["anonymous_events"]
    events = [event for person in people for event in person["events"]] + anonymous
    return {event["id"]: event["received_at"] for event in events}


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(fraction * len(values)))]
