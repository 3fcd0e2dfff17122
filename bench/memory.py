"""P7: web and worker memory while 1,000,000 events are ingested and forwarded. Run through bench/run.py.

"At start" is after a warm-up of 20,000 events (imports, connection pools and caches are loaded by
then, as on any server that has served a minute of traffic); the peak is the largest resident set
sampled every second while 1,000,000 more are ingested (bench/load.py, flat out) and forwarded to the emulator, until
the outbox is empty. Web counts gunicorn's master and workers; worker counts Celery's main process
and its pool.
"""

import os
import threading
import time
from pathlib import Path

from bench.harness import (
    SCALE,
    emulator,
    forwarders,
    gunicorn,
    process_tree,
    rss_bytes,
    sql,
    wait_drained,
    workspace_source,
)
from bench.load import PacedRun, paced_batches

WARMUP_EVENTS = int(20_000 * SCALE)
# BENCH_MEMORY_EVENTS shortens the run (about 1,150 events/s here while forwarding: 1,000,000 took 15 minutes).
EVENTS = int(int(os.environ.get("BENCH_MEMORY_EVENTS", 1_000_000)) * SCALE)
BATCH = 100
OFFERED_RATE = 50_000  # events/s offered: more than ingest takes, so it runs flat out
TARGET_GROWTH = 1.20


class Sampler(threading.Thread):
    """Samples the resident memory of two process trees every second until stopped."""

    def __init__(self, web_pid: int, worker_pid: int) -> None:
        super().__init__(daemon=True)
        self.roots = {"web": web_pid, "worker": worker_pid}
        self.peak = dict.fromkeys(self.roots, 0)
        self.samples: list[dict[str, int]] = []  # one a second: the shape of the growth, not just its top
        self.stopping = threading.Event()

    def sample(self) -> dict[str, int]:
        return {name: rss_bytes(process_tree(pid)) for name, pid in self.roots.items()}

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            sample = self.sample()
            self.samples.append(sample)
            for name, rss in sample.items():
                self.peak[name] = max(self.peak[name], rss)

    def quarters(self, name: str) -> list[int]:
        """RSS at the end of each quarter of the run: a leak climbs in all four, a warm-up levels off."""
        samples = self.samples or [self.sample()]
        return [samples[max(0, len(samples) * quarter // 4 - 1)][name] for quarter in (1, 2, 3, 4)]


def run(env: dict, workdir: Path) -> list[dict]:
    with emulator(env) as emulator_url:
        source = workspace_source(env, emulator_url)
        workspace_id = source["workspace_id"]
        with gunicorn(env) as server, forwarders(env) as worker:
            offer(server.url, source["write_key"], WARMUP_EVENTS, prefix="warm")
            wait_drained(env, workspace_id)
            sampler = Sampler(server.process.pid, worker.pid)
            start = sampler.sample()
            sampler.start()

            started = time.monotonic()
            load = offer(server.url, source["write_key"], EVENTS, prefix="million")
            ingest_seconds = time.monotonic() - started
            drained = wait_drained(env, workspace_id)
            forward_seconds = time.monotonic() - started
            sampler.stopping.set()
            sampler.join()
            end = sampler.sample()

    ((stored,),) = sql(env, "SELECT count(*) FROM events_event WHERE workspace_id = %s", workspace_id)
    ((delivered,),) = sql(
        env, "SELECT count(*) FROM forwarding_delivery WHERE workspace_id = %s AND state = 'delivered'", workspace_id
    )
    rows = []
    for name in ("web", "worker"):
        growth = sampler.peak[name] / start[name]
        rows.append(
            {
                "id": "P7",
                "measure": f"{name} RSS peak while processing {EVENTS:,} events, MiB",
                "value": sampler.peak[name] / 2**20,
                "baseline_name": f"at start, after {WARMUP_EVENTS:,} events",
                "baseline": start[name] / 2**20,
                "target": f"<= {TARGET_GROWTH:.2f}",
                "ok": growth <= TARGET_GROWTH and drained,
                "note": f"at the end {end[name] / 2**20:,.0f} MiB (by quarter of the run: "
                f"{' → '.join(f'{rss / 2**20:,.0f}' for rss in sampler.quarters(name))}); "
                f"{stored:,} events stored with the warm-up, "
                f"the {EVENTS:,} in {ingest_seconds:.0f} s "
                f"({load.failures} failed requests), {delivered:,} delivered by {forward_seconds:.0f} s"
                f"{'' if drained else ' (NOT drained)'}",
            }
        )
    return rows


def offer(url: str, write_key: str, events: int, *, prefix: str) -> PacedRun:
    """Send `events` customer events in batches of 100, as fast as ingest takes them."""
    return paced_batches(
        url, write_key, events_per_second=OFFERED_RATE, batch_size=BATCH, seconds=events / OFFERED_RATE, prefix=prefix
    )
