"""P1 (batch ingest vs the database's own COPY limit) and P2 (single messages vs a bare Django view), plus
reference rows: the naive build, and the floors under P1 and P2 (bench/floors.py). Run through bench/run.py
(`make bench`)."""

import base64
import io
import json
import time
from pathlib import Path

import orjson
import psycopg

from bench.harness import SCALE, WrkResult, gunicorn, manage, wrk

BATCH_SIZE = 100
SECONDS = max(3, int(15 * SCALE))
CONNECTIONS = 32  # concurrent clients: every server thread busy (bench/harness.py: 4 workers x 8 threads)
# P2 alternates short runs of /v1/track and of the bare view and compares their medians: one run of each, one
# after the other, put the machine's drift into the ratio (the bare view moved 1,200-3,100 requests/s between runs).
P2_ROUNDS = 3
P2_ROUND_SECONDS = max(3, SECONDS // P2_ROUNDS)
# The floors under P1 and P2 (bench/floors.py): the same requests with less of Seam's work, as reference rows.
BATCH_FLOORS = {
    "validated": "P1's batches authenticated and validated, nothing stored, events/s",
    "accepted": "P1's batches accepted: validated, then written durably as they came, events/s",
}
SINGLE_FLOORS = {
    "framework": "a DRF view returning {}, requests/s",
    "validated/track": "P2's message authenticated and validated, nothing stored, requests/s",
    "accepted/track": "P2's message accepted: validated, then written durably as it came (group commit), requests/s",
}


def message(n: int) -> dict:
    """A realistic ~1 KB storefront event, as analytics-python sends it (no messageId: each is new).

    `REQ` is replaced per request by wrk (see lua_script), so visitors and carts differ between
    requests as real traffic does (identical repeats would be collapsed as storms, a different path).
    """
    return {
        "type": "track",
        "anonymousId": f"anon-REQ-{n % 40}",
        "event": "added_to_cart",
        "properties": {
            "cart_id": f"cart-REQ-{n % 40}",
            "product_id": f"prod-{n % 97}",
            "sku": f"SKU-{n % 97:05d}",
            "name": "Organic cotton crew-neck t-shirt, relaxed fit",
            "category": "apparel/tops",
            "quantity": 1 + n % 3,
            "price": 29.5,
            "currency": "EUR",
            "image_url": "https://cdn.shop.example/images/products/prod-1234/main-1200x1200.jpg",
        },
        "context": {
            "library": {"name": "analytics-python", "version": "1.1.0"},
            "ip": "203.0.113.0",
            "locale": "en-GB",
            "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Safari/537.36",
            "page": {
                "path": "/products/organic-cotton-crew-neck",
                "url": "https://shop.example/products/organic-cotton-crew-neck?utm_source=newsletter",
                "title": "Organic cotton crew-neck t-shirt",
                "referrer": "https://shop.example/collections/tops",
            },
            "campaign": {"source": "newsletter", "medium": "email", "name": "autumn"},
        },
        "timestamp": "2026-11-20T10:00:00.000Z",
    }


def lua_script(path: Path, *, key: str, body: bytes, password: str = "") -> Path:
    """A wrk script posting `body` with every `REQ` replaced by a per-request counter, and every `ULIDREQ`
    by 22 digits unique to the request (add 4 more characters for a ULID-shaped id).
    """
    auth = base64.b64encode(f"{key}:{password}".encode()).decode()
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Basic {auth}"\n'
        f"local template = [==[{body.decode()}]==]\n"
        "local counter = 0\n"
        "math.randomseed(os.time())\n"
        "local seed = math.random(1, 1000000000)\n"
        "local prefix = tostring(seed)\n"
        "function request()\n"
        "  counter = counter + 1\n"
        '  local body = template:gsub("ULIDREQ", string.format("%010d%012d", seed, counter))\n'
        '  body = body:gsub("REQ", prefix .. "-" .. counter)\n'
        "  return wrk.format(nil, nil, nil, body)\n"
        "end\n"
    )
    return path


def source_key(env: dict) -> str:
    return json.loads(manage(env, "create_source", "--workspace", "Bench", "--kind", "server"))["write_key"]


def _median_run(runs: list[WrkResult]) -> WrkResult:
    return sorted(runs, key=lambda run: run.requests_per_second)[len(runs) // 2]


def count_events(env: dict) -> int:
    with psycopg.connect(env["DATABASE_URL"]) as connection:
        return connection.execute("SELECT count(*) FROM events_event").fetchone()[0]


def copy_rate(env: dict, rows: int = 100_000) -> float:
    """Rows/s that one client reaches with COPY of the same rows into a twin of the events table."""
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_copy")
        connection.execute("CREATE TABLE bench_copy (LIKE events_event INCLUDING ALL)")
        buffer = io.BytesIO()
        query = f"COPY (SELECT * FROM events_event LIMIT {int(rows)}) TO STDOUT"  # noqa: S608 - an int
        with connection.cursor().copy(query) as copy:
            for chunk in copy:
                buffer.write(chunk)
        data = buffer.getvalue()
        copied = data.count(b"\n")
        started = time.perf_counter()
        with connection.transaction(), connection.cursor().copy("COPY bench_copy FROM STDIN") as copy:
            copy.write(data)
        elapsed = time.perf_counter() - started
        connection.execute("DROP TABLE bench_copy")
    return copied / elapsed


def run(env: dict, workdir: Path) -> list[dict]:
    key = source_key(env)
    batch = orjson.dumps({"batch": [message(n) for n in range(BATCH_SIZE)]})
    single = orjson.dumps(message(0))
    rows = []
    with gunicorn(env) as server:
        warm = lua_script(workdir / "warm.lua", key=key, body=batch)
        wrk(f"{server.url}/v1/batch", warm, seconds=3, connections=CONNECTIONS)

        before = count_events(env)
        result = wrk(f"{server.url}/v1/batch", warm, seconds=SECONDS, connections=CONNECTIONS)
        stored = count_events(env) - before
        seam_rate = stored / result.duration
        copy = copy_rate(env)
        rows.append(
            {
                "id": "P1",
                "measure": f"batch ingest ({BATCH_SIZE}/request, ~1 KB events, {CONNECTIONS} clients), events/s stored",
                "value": seam_rate,
                "baseline_name": "COPY of the same rows, one client",
                "baseline": copy,
                "target": ">= 0.40",
                "ok": seam_rate / copy >= 0.40,
                "note": f"{result.requests} requests, non-2xx {result.non_2xx}, p99 {result.latency_p99_ms:.0f} ms, "
                f"wrk CPU {result.cpu_seconds / result.duration:.0%} of a core",
            }
        )

        naive_before = count_events(env)
        naive = wrk(f"{server.url}/bench/naive/batch", warm, seconds=SECONDS, connections=CONNECTIONS)
        naive_rate = (count_events(env) - naive_before) / naive.duration
        rows.append(
            {
                "id": "ref",
                "measure": "naive build (DRF serializer + one ORM insert per message), events/s",
                "value": naive_rate,
                "baseline_name": "Seam's batch ingest (P1)",
                "baseline": seam_rate,
                "target": "reference",
                "ok": None,
                "note": f"Seam is {seam_rate / max(naive_rate, 1e-9):.1f}x the naive build",
            }
        )
        for floor, measure in BATCH_FLOORS.items():
            result = wrk(f"{server.url}/bench/floor/{floor}/batch", warm, seconds=SECONDS, connections=CONNECTIONS)
            rows.append(_floor_row("P1 floor", measure, result, BATCH_SIZE, baseline_name="COPY (P1)", baseline=copy))

        track = lua_script(workdir / "track.lua", key=key, body=single)
        bare = lua_script(workdir / "bare.lua", key=key, body=b"{}")
        wrk(f"{server.url}/v1/track", track, seconds=3, connections=CONNECTIONS)
        paths = ["/v1/track", "/bench/bare", *(f"/bench/floor/{floor}" for floor in SINGLE_FLOORS)]
        runs: dict[str, list[WrkResult]] = {path: [] for path in paths}
        for round_ in range(P2_ROUNDS):  # alternating, so a drift of the machine's speed falls on all alike
            for path in paths if round_ % 2 == 0 else reversed(paths):
                script = bare if path.endswith(("bare", "framework")) else track
                runs[path].append(wrk(f"{server.url}{path}", script, seconds=P2_ROUND_SECONDS, connections=CONNECTIONS))
        singles, bares = runs["/v1/track"], runs["/bench/bare"]
        single_result, bare_result = _median_run(singles), _median_run(bares)
        ratios = ", ".join(
            f"{s.requests_per_second / b.requests_per_second:.2f}" for s, b in zip(singles, bares, strict=True)
        )
        rows.append(
            {
                "id": "P2",
                "measure": "single-message ingest (/v1/track), requests/s",
                "value": single_result.requests_per_second,
                "baseline_name": "bare Django view returning {}",
                "baseline": bare_result.requests_per_second,
                "target": ">= 0.50",
                "ok": single_result.requests_per_second / bare_result.requests_per_second >= 0.50,
                "note": f"medians of {P2_ROUNDS} alternating {P2_ROUND_SECONDS} s runs each (ratios by round: "
                f"{ratios}); p50 {single_result.latency_p50_ms:.1f} ms vs {bare_result.latency_p50_ms:.1f} ms; "
                f"non-2xx {sum(s.non_2xx for s in singles)}",
            }
        )
        for floor, measure in SINGLE_FLOORS.items():
            result = _median_run(runs[f"/bench/floor/{floor}"])
            baseline = bare_result.requests_per_second
            rows.append(_floor_row("P2 floor", measure, result, 1, baseline_name="bare view (P2)", baseline=baseline))
    return rows


def _floor_row(id_: str, measure: str, result: WrkResult, per_request: int, *, baseline_name: str, baseline: float):
    """A reference row for one of bench/floors.py's views: requests (or events, per_request of them) per second."""
    return {
        "id": id_,
        "measure": measure,
        "value": result.requests_per_second * per_request,
        "baseline_name": baseline_name,
        "baseline": baseline,
        "target": "reference",
        "ok": None,
        "note": f"{result.requests} requests, non-2xx {result.non_2xx}, "
        f"wrk CPU {result.cpu_seconds / result.duration:.0%} of a core",
    }
