"""The fault drill: events through the real stack while Customer.io, workers, Redis and Postgres fail.

    .venv/bin/python -m chaos.drill                  # 50,000 events, every fault (make chaos)
    .venv/bin/python -m chaos.drill --events 2000 --quick

It starts its own Postgres (initdb in a temporary directory) and Redis on spare loopback ports,
gunicorn, a Celery worker, beat and the Customer.io emulator; sends the events from client threads
that retry like the official SDKs; and meanwhile injects, at set points of progress:
the emulator answering 20% 5xx and some timeouts throughout, bursts of 429 with and without
Retry-After, three SIGKILLed workers, one Redis restart and one Postgres restart (ingest must
answer 503 {code, message} with Retry-After while it is down). Ingest's own rate limit is set low
enough that clients meet 429s too.

At the end every messageId that got a 200 must be stored once and its event delivered to the
emulator exactly once by its ULID `id`, with nothing left in the outbox; the drill prints the
counts and exits 1 on any loss, duplicate, stuck delivery, 500 or malformed error (2 on timeout).
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from chaos.client import Sender, Tally, shopper_journey
from chaos.stack import API_KEY, SITE_ID, Stack, wait_until

WRITE_KEY = "sk_chaos_drill_server_write_key"
# What the stack runs with: fast sweeps and short back-off so that recovery fits in the drill.
STACK_ENV = {
    "SEAM_FORWARDING_SWEEP_SECONDS": "1",
    "SEAM_DELIVERY_STUCK_AFTER_SECONDS": "20",
    "SEAM_DELIVERY_BASE_BACKOFF_SECONDS": "1",
    "SEAM_DELIVERY_MAX_BACKOFF_SECONDS": "4",
    "SEAM_DELIVERY_CLAIM_SIZE": "200",
    # Low enough that the drill's clients meet ingest's own 429s now and then.
    "SEAM_INGEST_RATE_PER_IP": "20",
    "SEAM_INGEST_BURST_PER_IP": "20",
}
# Overload: threads x batches x messages fired back to back, far past ingest's per-address limit.
FLOOD, FLOOD_QUICK = (16, 40, 5), (8, 20, 5)
BASELINE_FAULTS = {"error_rate": 0.2, "error_statuses": [500, 502, 503, 504], "timeout_rate": 0.01,
                   "timeout_seconds": 2, "delay_ms": 5}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.drill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--events-per-shopper", type=int, default=25)
    parser.add_argument("--senders", type=int, default=6, help="client threads")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--single-senders", type=int, default=8,
                        help="client threads sending a tenth of the shoppers one message per request")  # fmt: skip
    parser.add_argument("--rate", type=float, default=200, help="events per second, all clients together")
    parser.add_argument("--quick", action="store_true", help="one of each fault (the CI version)")
    parser.add_argument("--faulty-drain", type=float, default=90, help="seconds of faults after the clients finish")
    parser.add_argument("--deadline", type=float, default=1500, help="seconds for the whole drill")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and its logs")
    options = parser.parse_args(argv)

    started = time.monotonic()
    deadline = started + options.deadline
    tmp = Path(tempfile.mkdtemp(prefix="seam-chaos-"))
    stack = Stack(tmp, env=STACK_ENV)
    report: dict = {}
    code = 2
    try:
        _say(f"stack in {tmp}: postgres :{stack.pg_port}, redis :{stack.redis_port}, web :{stack.web_port}")
        _stack_up(stack)
        _say(f"stack up in {time.monotonic() - started:.0f} s")
        drill = Drill(stack, options, deadline)
        report = drill.run()
        code = 0 if report["ok"] else 1
    except TimeoutError as error:
        _say(f"TIMEOUT: {error}")
        code = 2
    except Exception as error:  # report what broke, with the processes' last words
        _say(f"ERROR: {type(error).__name__}: {error}")
        for process in stack.processes():
            _say(f"--- {process.name} (last lines)\n{process.tail(15)}")
        code = 1
    finally:
        stack.stop()
        if options.keep or code != 0:
            _say(f"logs kept in {tmp}/logs")
        else:
            stack.remove()
    report["seconds"] = round(time.monotonic() - started)
    report["exit_code"] = code
    print("CHAOS-REPORT " + json.dumps(report, sort_keys=True), flush=True)
    return code


def _stack_up(stack: Stack) -> None:
    stack.postgres_init()
    stack.redis_start()
    stack.manage("migrate", "--noinput")
    stack.emulator_start()
    stack.manage("shell", "-c", _SETUP.format(url=stack.emulator_url, site=SITE_ID, key=API_KEY, write_key=WRITE_KEY))
    stack.web_start()
    stack.worker_start()
    stack.beat_start()


_SETUP = """
from workspaces.models import Source
from workspaces.services import source_create, workspace_ensure
workspace, _ = workspace_ensure(name="Chaos", track_api_url="{url}", site_id="{site}", track_api_key="{key}")
workspace.rate_limit_per_second = 1000
workspace.save()
source_create(workspace=workspace, name="backend", kind=Source.Kind.SERVER, write_key="{write_key}")
"""


class Drill:
    def __init__(self, stack: Stack, options: argparse.Namespace, deadline: float) -> None:
        self.stack = stack
        self.options = options
        self.deadline = deadline
        self.tally = Tally()
        self.emulator = requests.Session()
        self.faults_seen: list[str] = []
        self.outage_probe: dict = {}
        self.in_flight_at_kills: list[int] = []
        self.flood_senders: list[Sender] = []
        self.flood_total = 0  # part of --events

    def run(self) -> dict:
        flood_threads, flood_batches, flood_size = FLOOD_QUICK if self.options.quick else FLOOD
        self.flood_total = flood_threads * flood_batches * flood_size
        shoppers = max(1, (self.options.events - self.flood_total) // self.options.events_per_shopper)
        journeys = [shopper_journey(n, self.options.events_per_shopper) for n in range(shoppers)]
        total = sum(len(journey) for journey in journeys) + self.flood_total
        self._faults(BASELINE_FAULTS)
        # Leave time to drain and verify.
        send_deadline = self.deadline - min(300.0, max(60.0, 0.35 * self.options.deadline))
        # A tenth of the shoppers come one message per request, at a tenth of the rate, from threads on one
        # schedule: their requests arrive together, so the web workers' group commits fill. The rest in batches.
        singles = self.options.single_senders
        cut = len(journeys) // 10 if singles else 0
        alone, batched = journeys[:cut], journeys[cut:]
        senders = [
            Sender(url=self.stack.web_url, write_key=WRITE_KEY, journeys=batched[n :: self.options.senders],
                   batch_size=self.options.batch_size, tally=self.tally, deadline=send_deadline,
                   interval=self.options.batch_size * self.options.senders / self.options.rate)
            for n in range(self.options.senders)
        ] + [
            Sender(url=self.stack.web_url, write_key=WRITE_KEY, journeys=alone[n::singles], batch_size=0,
                   tally=self.tally, deadline=send_deadline, interval=singles * 10 / self.options.rate)
            for n in range(singles if alone else 0)
        ]  # fmt: skip
        _say(f"sending {total} events: {shoppers} shoppers ({len(alone)} one message per request) from "
             f"{len(senders)} clients, {self.flood_total} in a flood")  # fmt: skip
        sending_started = time.monotonic()
        for sender in senders:
            sender.start()
        self._inject_faults(total, senders)
        for sender in senders + self.flood_senders:
            sender.join(timeout=max(0.0, send_deadline - time.monotonic()) + 60)
        send_seconds = time.monotonic() - sending_started
        _say(f"sent: {len(self.tally.acked)} of {total} acknowledged in {send_seconds:.0f} s")

        # Forwarding lags ingest: keep Customer.io failing a while longer, then let the outbox drain clean.
        faulty = min(self.options.faulty_drain, max(0.0, self.deadline - time.monotonic() - 120))
        _say(f"{faulty:.0f} s more of 5xx, 429 and timeouts while the outbox drains")
        time.sleep(faulty)
        self._faults({})
        _say(f"faults off with {self._open_deliveries()} deliveries open; waiting for the outbox to drain")
        drained = self._wait_drained()
        return self._verify(total, journeys, drained, send_seconds)

    # --- faults -------------------------------------------------------------------------------------

    def _schedule(self) -> list[tuple[float, str]]:
        if self.options.quick:
            return [
                (0.10, "ingest_flood"),
                (0.15, "kill_worker"),
                (0.25, "burst_429_retry_after"),
                (0.40, "restart_redis"),
                (0.55, "burst_429_no_retry_after"),
                (0.70, "restart_postgres"),
            ]
        return [
            (0.05, "ingest_flood"),
            (0.10, "kill_worker"),
            (0.20, "burst_429_retry_after"),
            (0.30, "restart_redis"),
            (0.40, "kill_worker"),
            (0.50, "burst_429_no_retry_after"),
            (0.60, "restart_postgres"),
            (0.75, "kill_worker"),
        ]

    def _inject_faults(self, total: int, senders: list[Sender]) -> None:
        for at, fault in self._schedule():
            while self.tally.progress(total) < at and any(sender.is_alive() for sender in senders):
                time.sleep(0.2)
            if not any(sender.is_alive() for sender in senders):
                break
            _say(f"{self.tally.progress(total):4.0%} acknowledged: {fault}")
            getattr(self, f"_{fault}")()
            self.faults_seen.append(fault)

    def _kill_worker(self) -> None:
        worker = next(worker for worker in reversed(self.stack.workers) if worker.alive)
        # Kill while it sends: wait (up to 10 s) for a claim in flight, then SIGKILL the whole group.
        in_flight, give_up = 0, time.monotonic() + 10
        while not in_flight and time.monotonic() < give_up:
            in_flight = int(self._sql("select count(*) from forwarding_delivery where state = 'sending'")[0][0])
            time.sleep(0.05)
        worker.kill()
        self.in_flight_at_kills.append(in_flight)
        _say(f"    SIGKILLed {worker.name} with {in_flight} deliveries claimed")
        self.stack.worker_start()

    def _ingest_flood(self) -> None:
        """Overload: clients firing small batches back to back, far past ingest's per-address limit."""
        threads, batches, size = FLOOD_QUICK if self.options.quick else FLOOD
        for n in range(threads):
            journeys = [
                [{"type": "track", "anonymousId": f"chaos-flood-{n}-{b}-{i}", "event": "product_viewed",
                  "messageId": f"chaos-flood-{n}-{b}-{i}"} for i in range(size)]
                for b in range(batches)
            ]  # fmt: skip
            sender = Sender(url=self.stack.web_url, write_key=WRITE_KEY, journeys=journeys, batch_size=size,
                            tally=self.tally, deadline=self.deadline - 60, interval=0)  # fmt: skip
            self.flood_senders.append(sender)
            sender.start()

    def _burst_429_retry_after(self) -> None:
        self._burst({"rate_429": 0.7, "retry_after": 1})

    def _burst_429_no_retry_after(self) -> None:
        self._burst({"rate_429": 0.7})

    def _burst(self, policy: dict) -> None:
        self._faults({**BASELINE_FAULTS, **policy})
        time.sleep(4)
        self._faults(BASELINE_FAULTS)

    def _restart_redis(self) -> None:
        self.stack.redis_restart(down_seconds=2)

    def _restart_postgres(self) -> None:
        self.stack.postgres_stop("immediate")
        time.sleep(1)
        self.outage_probe = self._probe_outage()
        time.sleep(3)
        self.stack.postgres_start()

    def _probe_outage(self) -> dict:
        """What ingest answers while the database is down: it must be 503 {code, message} + Retry-After."""
        answers = Counter()
        sample: dict = {}
        for n in range(5):
            message = {"userId": "probe", "event": "probe", "messageId": f"probe-{n}-{time.time()}"}
            try:
                response = requests.post(
                    f"{self.stack.web_url}/v1/track", json=message, auth=(WRITE_KEY, ""), timeout=10
                )
            except requests.RequestException as error:
                answers[type(error).__name__] += 1
                continue
            answers[response.status_code] += 1
            sample = {"status": response.status_code, "retry_after": response.headers.get("Retry-After")}
            try:
                sample["body"] = response.json()
            except ValueError:
                sample["body"] = response.text[:200]
            time.sleep(0.2)
        ok = set(answers) <= {503, 429} and 503 in answers and isinstance(sample.get("body"), dict)
        ok = ok and {"code", "message"} <= set(sample["body"]) and bool(sample.get("retry_after"))
        _say(f"    ingest while Postgres is down: {dict(answers)} e.g. {sample}")
        return {"answers": {str(key): value for key, value in answers.items()}, "sample": sample, "ok": ok}

    def _faults(self, policy: dict) -> None:
        response = self.emulator.post(f"{self.stack.emulator_url}/_emulator/faults", json=policy, timeout=10)
        response.raise_for_status()

    # --- the end ------------------------------------------------------------------------------------

    def _wait_drained(self) -> bool:
        try:
            wait_until(
                lambda: self._open_deliveries() == 0, "the outbox to drain", max(30.0, self.deadline - time.monotonic())
            )
        except RuntimeError:
            return False
        return True

    def _open_deliveries(self) -> int:
        return int(self._sql("select count(*) from forwarding_delivery where state in ('pending', 'sending')")[0][0])

    def _sql(self, query: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.stack.database_url, connect_timeout=5) as connection:
            return connection.execute(query).fetchall()

    def _emulator(self, path: str) -> dict:
        response = self.emulator.get(f"{self.stack.emulator_url}/_emulator/{path}", timeout=60)
        response.raise_for_status()
        return response.json()

    def _verify(self, total: int, journeys: list[list[dict]], drained: bool, send_seconds: float) -> dict:
        acked = self.tally.acked
        stored = Counter(
            row[0] for row in self._sql("select message_id from events_event where message_id like 'chaos-%'")
        )
        lost_at_ingest = [message_id for message_id in acked if message_id not in stored]
        stored_twice = [message_id for message_id, count in stored.items() if count > 1]

        forwardable = {
            row[0]: row[1]
            for row in self._sql("select id, message_id from events_event where type in ('track', 'page')")
        }
        received = [event["id"] for person in self._emulator("people")["people"] for event in person["events"]]
        received += [event["id"] for event in self._emulator("anonymous_events")["anonymous_events"]]
        received_counts = Counter(received)
        delivered = [event_id for event_id in forwardable if received_counts[event_id] == 1]
        duplicated = [event_id for event_id, count in received_counts.items() if count > 1]
        not_delivered = [event_id for event_id in forwardable if received_counts[event_id] == 0]
        unexpected = [event_id for event_id in received_counts if event_id not in forwardable]

        people = {person["id"] for person in self._emulator("people")["people"] if person["id"]}
        acked_users = {
            message["userId"]
            for journey in journeys
            for message in journey
            if message["type"] == "identify" and message["messageId"] in acked
        }
        deliveries = dict(self._sql("select state, count(*) from forwarding_delivery group by state"))
        stats = self._emulator("stats")
        secrets_in_logs = self._secrets_in_logs()
        tally = self.tally
        report = {
            "events": total,
            "acknowledged": len(acked),
            "stored": sum(stored.values()),
            "lost": len(lost_at_ingest) + len(not_delivered),
            "lost_at_ingest": len(lost_at_ingest),
            "lost_samples": sorted(lost_at_ingest)[:5] + sorted(not_delivered)[:5],
            "stored_twice": len(stored_twice),
            "forwardable": len(forwardable),
            "delivered": len(delivered),
            "not_delivered": len(not_delivered),
            "duplicated": len(duplicated),
            "unexpected_in_emulator": len(unexpected),
            "customers_missing_in_emulator": len(acked_users - people),
            "deliveries_by_state": deliveries,
            "stuck": sum(count for state, count in deliveries.items() if state in ("pending", "sending")),
            "drained": drained,
            "resent_and_deduplicated_by_customerio": stats["duplicates_ignored"],
            "emulator_requests": stats["requests"],
            "emulator_failed": sum(count for status, count in stats["by_status"].items() if status != "200"),
            "emulator_by_status": stats["by_status"],
            "ingest_statuses": {str(key): value for key, value in sorted(tally.statuses.items())},
            "ingest_connection_errors": dict(tally.errors),
            "ingest_500s": tally.statuses.get(500, 0),
            "bad_error_bodies": tally.bad_error_bodies,
            "missing_retry_after": tally.missing_retry_after,
            "client_gave_up": tally.gave_up,
            "client_refused": tally.refused[:5],
            "faults": self.faults_seen,
            "worker_kills": self.faults_seen.count("kill_worker"),
            "in_flight_at_kills": self.in_flight_at_kills,
            "ingest_429s": tally.statuses.get(429, 0),
            "postgres_outage_probe": self.outage_probe,
            "secrets_in_logs": secrets_in_logs,
            "send_seconds": round(send_seconds),
        }
        report["ok"] = (
            report["lost"] == 0
            and report["stored_twice"] == 0
            and report["duplicated"] == 0
            and report["unexpected_in_emulator"] == 0
            and report["customers_missing_in_emulator"] == 0
            and report["stuck"] == 0
            and set(deliveries) <= {"delivered"}
            and report["acknowledged"] == total
            and report["ingest_500s"] == 0
            and report["bad_error_bodies"] == 0
            and report["missing_retry_after"] == 0
            and not report["client_refused"]
            and bool(self.outage_probe.get("ok"))
            and not secrets_in_logs
        )
        _print_summary(report)
        return report

    def _secrets_in_logs(self) -> list[str]:
        """The Track API key and the server write key must appear in no process's output."""
        found = []
        for log in sorted(self.stack.logs.glob("*.log")):
            text = log.read_text(errors="replace")
            found += [f"{log.name}: {name}" for name, secret in (("track_api_key", API_KEY), ("write_key", WRITE_KEY))
                      if secret in text]  # fmt: skip
        return found


def _print_summary(report: dict) -> None:
    lines = [
        "",
        "=== chaos drill ===",
        f"events sent         {report['events']}",
        f"acknowledged (200)  {report['acknowledged']}",
        f"stored              {report['stored']}  (stored twice: {report['stored_twice']})",
        f"delivered           {report['delivered']} of {report['forwardable']} forwardable (track/page) events",
        f"lost                {report['lost']}  (at ingest {report['lost_at_ingest']}, "
        f"in forwarding {report['not_delivered']})",
        f"duplicated          {report['duplicated']}  (resends ignored by the emulator's de-dup: "
        f"{report['resent_and_deduplicated_by_customerio']})",
        f"stuck deliveries    {report['stuck']}  (by state: {report['deliveries_by_state']})",
        f"ingest answers      {report['ingest_statuses']}  connection errors: {report['ingest_connection_errors']}",
        f"emulator answers    {report['emulator_by_status']}  ({report['emulator_failed']} of "
        f"{report['emulator_requests']} failed on purpose)",
        f"faults              {', '.join(report['faults'])}",
        f"worker kills        {report['worker_kills']} (claimed at each: {report['in_flight_at_kills']})",
        f"postgres down probe {report['postgres_outage_probe'].get('answers')}",
        f"secrets in logs     {len(report['secrets_in_logs'])}",
        f"result              {'PASS' if report['ok'] else 'FAIL'}",
    ]
    print("\n".join(lines), flush=True)


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    threading.current_thread().name = "drill"
    sys.exit(main())
