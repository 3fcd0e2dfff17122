"""HTTP plumbing: the threaded server, Basic auth, fault injection, JSON in and out, the request log.

Track API requests go through `_track`: route, fault decision, auth, `track_api.plan_request` (outside the
lock), `track_api.apply_plan` (inside it), log. Paths under `/_emulator/` go to `inspection` and are neither
authenticated, faulted nor logged, so polling them never disturbs what a test is measuring.
"""

import base64
import binascii
import hmac
import json
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import inspection, track_api
from .clock import Clock
from .faults import Fault, FaultInjector
from .state import Store
from .track_api import Body, Reply, Route

DEFAULT_CREDENTIALS = {"demo-site": "demo-key"}
# Far above the 500 KB batch limit; only protects the process from a runaway client.
MAX_READ_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class EmulatorConfig:
    """How to run the emulator: where to listen, which workspaces exist, optional TLS."""

    host: str = "127.0.0.1"
    port: int = 8025
    credentials: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CREDENTIALS))
    tls_cert: str | None = None
    tls_key: str | None = None
    region: str = "us"
    verbose: bool = False


class Emulator:
    """The state and policies every request thread shares."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store()
        self.clock = Clock()
        self.faults = FaultInjector()
        # Set on shutdown so injected delays and timeouts stop holding their threads.
        self.stopping = threading.Event()

    @property
    def default_site_id(self) -> str:
        return next(iter(self.config.credentials), "")

    def authenticate(self, authorization: str | None) -> tuple[str | None, bool]:
        """Return (the site_id the client claims, whether its key is right) from a Basic auth header."""
        if not authorization or not authorization.startswith("Basic "):
            return None, False
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, False
        site_id, _, api_key = decoded.partition(":")
        expected = self.config.credentials.get(site_id)
        valid = expected is not None and hmac.compare_digest(expected.encode(), api_key.encode())
        return site_id, valid

    def reset(self) -> None:
        """Forget all people, events, logs and counters; clock offset back to 0; no faults."""
        with self.store.lock:
            self.store.reset()
        self.clock.set_offset(0)
        self.faults.clear()


class EmulatorServer(ThreadingHTTPServer):
    """A `ThreadingHTTPServer` carrying the `Emulator` and an optional TLS context."""

    daemon_threads = True

    def __init__(self, emulator: Emulator, ssl_context: ssl.SSLContext | None = None) -> None:
        self.emulator = emulator
        self.ssl_context = ssl_context
        super().__init__((emulator.config.host, emulator.config.port), RequestHandler)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{port}"

    def start_in_thread(self) -> "EmulatorServer":
        # A short poll interval keeps `stop()` fast in test fixtures.
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="customerio-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.emulator.stopping.set()
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def make_server(config: EmulatorConfig) -> EmulatorServer:
    """Bind the server (port 0 picks a free port); TLS is on when both cert and key are given."""
    context = None
    if config.tls_cert or config.tls_key:
        if not (config.tls_cert and config.tls_key):
            raise ValueError("TLS needs both a certificate and a key")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(config.tls_cert, config.tls_key)
    return EmulatorServer(Emulator(config), context)


class RequestHandler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive so SDK sessions reuse it."""

    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "CustomerioEmulator/1.0"
    # Idle keep-alive connections are dropped after this many seconds.
    timeout = 60

    def setup(self) -> None:
        # The TLS handshake runs here, in the connection's own thread, so a slow or plain-HTTP client cannot
        # stall the accept loop.
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus delayed ACK would add
        # ~40 ms to every keep-alive request.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.server.ssl_context is not None:
            self.request.settimeout(10)
            self.request = self.server.ssl_context.wrap_socket(self.request, server_side=True)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if self.server.ssl_context is not None:
                self.request.close()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.config.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        # Split before decoding: an identifier's %2F stays inside its own segment (contract "Identifiers").
        segments = [unquote(segment) for segment in url.path.split("/")[1:]]
        raw = self._read_body()
        if raw is None:
            return
        if segments and segments[0] == "_emulator":
            query = {key: values[-1] for key, values in parse_qs(url.query).items()}
            self._send(inspection.handle(self.server.emulator, self.command, segments[1:], query, raw))
        else:
            self._track(segments, raw)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_READ_BYTES:
            self.close_connection = True
            self._send(Reply(413, {"meta": {"error": "request body too large"}}))
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_READ_BYTES:
                self.close_connection = True
                self._send(Reply(413, {"meta": {"error": "request body too large"}}))
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _track(self, segments: list[str], raw: bytes) -> None:
        emulator = self.server.emulator
        now = emulator.clock.now()
        body = Body.parse(raw)
        route = track_api.match_route(self.command, segments)
        claimed_site, authenticated = emulator.authenticate(self.headers.get("Authorization"))
        entry: dict[str, Any] = {
            "method": self.command,
            "path": self.path,
            "route": route.name if isinstance(route, Route) else None,
            "identifier": route.identifier if isinstance(route, Route) else None,
            "device_id": route.device_id if isinstance(route, Route) else None,
            "site_id": claimed_site,
            "authenticated": authenticated,
            "body": body.for_log(),
            "time": now,
            "status": None,
            "fault": None,
            "delay_ms": 0,
            "notes": [],
            "response": None,
        }
        if isinstance(route, Reply):
            self._answer(entry, route)
            return
        fault, delay_ms = emulator.faults.decide()
        if delay_ms:
            entry.update(fault="delay", delay_ms=delay_ms)
            emulator.stopping.wait(delay_ms / 1000)
        if fault is not None and fault.kind == "timeout":
            # Hold the request, then drop the connection without an answer. Nothing was applied.
            entry["fault"] = "timeout"
            self._log(entry)
            emulator.stopping.wait(fault.timeout_seconds)
            self.close_connection = True
            return
        if fault is not None:
            entry["fault"] = fault.kind
            self._answer(entry, _fault_reply(fault))
            return
        if not authenticated:
            self._answer(entry, Reply(401, {"meta": {"error": "Unauthorized"}}))
            return
        plan = track_api.plan_request(route, body, base_url=self._base_url(), region=emulator.config.region)
        if isinstance(plan, Reply):
            self._answer(entry, plan)
            return
        store = emulator.store
        with store.lock:
            workspace = store.workspace(claimed_site or "")
            index = store.reserve_request_index()
            workspace.current_request_index = index
            notes_before = len(workspace.notes)
            reply = track_api.apply_plan(plan, workspace, now)
            entry["notes"] = [note.kind for note in workspace.notes[notes_before:]]
            workspace.current_request_index = None
            self._log(entry, reply=reply, index=index)
        self._send(reply)

    def _answer(self, entry: dict[str, Any], reply: Reply) -> None:
        self._log(entry, reply=reply)
        self._send(reply)

    def _log(self, entry: dict[str, Any], *, reply: Reply | None = None, index: int | None = None) -> None:
        """Record the request. Takes the store lock unless `index` shows the caller already holds it."""
        if reply is not None:
            entry.update(status=reply.status, response=reply.body)
        store = self.server.emulator.store
        if index is not None:
            self._record(entry, index)
            return
        with store.lock:
            self._record(entry, store.reserve_request_index())

    def _record(self, entry: dict[str, Any], index: int) -> None:
        store = self.server.emulator.store
        entry["index"] = index
        site_id = entry["site_id"]
        if entry["authenticated"] and site_id is not None:
            store.workspace(site_id).requests += 1
        store.log_request(entry, now=entry["time"])

    def _base_url(self) -> str:
        scheme = "https" if self.server.ssl_context is not None else "http"
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"{scheme}://{host}"

    def _send(self, reply: Reply) -> None:
        if isinstance(reply.body, str):
            payload, content_type = reply.body.encode("utf-8"), "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(reply.body).encode("utf-8"), "application/json"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


def _fault_reply(fault: Fault) -> Reply:
    if fault.kind == "outage":
        return Reply(503, {"meta": {"error": "Service Unavailable (emulated outage)"}})
    if fault.kind == "rate_429":
        # The contract documents no 429 shape; Retry-After is sent only when the policy sets it, because the
        # official SDK retries a 429 only when the header is present.
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Reply(429, {"meta": {"error": "Too Many Requests"}}, headers)
    return Reply(fault.status or 500, {"meta": {"error": f"injected error {fault.status}"}})
