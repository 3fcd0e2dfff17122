"""The `/_emulator/` endpoints: read what the emulator received, reset it, move its clock, set faults.

No auth: these exist for tests and developers on 127.0.0.1. Reads take the store lock and copy out JSON, so
a reply never shows half of a request's changes. `?site_id=` picks the workspace and defaults to the first
configured credential's site.
"""

import html
import json
from typing import TYPE_CHECKING, Any

from .contract import ContractError, identifier_from_path
from .faults import FaultPolicy, FaultPolicyError
from .track_api import Reply

if TYPE_CHECKING:
    from .server import Emulator

# How many log entries the HTML page shows.
HTML_RECENT_REQUESTS = 50


def handle(
    emulator: "Emulator",
    method: str,
    segments: list[str],
    query: dict[str, str],
    raw: bytes,
) -> Reply:
    """Route an inspection request; `segments` is the decoded path after `/_emulator/`."""
    while segments and segments[-1] == "":
        segments = segments[:-1]
    site_id = query.get("site_id") or emulator.default_site_id
    name = segments[0] if segments else ""
    if name == "" and method == "GET":
        return Reply(200, _html_page(emulator, site_id))
    if name == "people" and method == "GET":
        if len(segments) == 2:
            return _person(emulator, site_id, segments[1])
        if len(segments) == 1:
            return _people(emulator, site_id)
    if segments == ["anonymous_events"] and method == "GET":
        return _anonymous_events(emulator, site_id, query.get("anonymous_id"))
    if segments == ["notes"] and method == "GET":
        return _notes(emulator, site_id, query.get("kind"))
    if segments == ["requests"] and method == "GET":
        return _requests(emulator, query)
    if segments == ["stats"] and method == "GET":
        return _stats(emulator, query.get("site_id"))
    if segments == ["reset"] and method == "POST":
        emulator.reset()
        return Reply(200, {})
    if segments == ["clock"] and method in ("GET", "POST"):
        return _clock(emulator, method, raw)
    if segments == ["faults"] and method in ("GET", "POST", "DELETE"):
        return _faults(emulator, method, raw)
    return Reply(404, {"error": f"no inspection endpoint {method} /_emulator/{'/'.join(segments)}"})


def _parse_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _people(emulator: "Emulator", site_id: str) -> Reply:
    with emulator.store.lock:
        workspace = emulator.store.workspaces.get(site_id)
        people = [person.as_json() for person in workspace.people.values()] if workspace else []
        body = json.loads(json.dumps({"site_id": site_id, "people": people}))
    return Reply(200, body)


def _person(emulator: "Emulator", site_id: str, segment: str) -> Reply:
    try:
        identifier = identifier_from_path(segment)
    except ContractError as error:
        return Reply(400, {"error": error.message})
    with emulator.store.lock:
        workspace = emulator.store.workspaces.get(site_id)
        person = workspace.find(identifier) if workspace else None
        body = json.loads(json.dumps(person.as_json())) if person else None
    if body is None:
        return Reply(404, {"error": f"no person {segment!r} in workspace {site_id!r}"})
    return Reply(200, body)


def _anonymous_events(emulator: "Emulator", site_id: str, anonymous_id: str | None) -> Reply:
    now = emulator.clock.now()
    with emulator.store.lock:
        workspace = emulator.store.workspaces.get(site_id)
        events: list[dict[str, Any]] = []
        links: dict[str, Any] = {}
        if workspace is not None:
            # Retention is enforced on read as well, so expired events never show up here.
            workspace.prune_anonymous(now)
            for key, items in workspace.anonymous_events.items():
                if anonymous_id is None or key == anonymous_id:
                    events.extend(item.as_json() for item in items)
            links = {
                key: {"cio_id": link.cio_id, "linked_at": link.linked_at}
                for key, link in workspace.anonymous_links.items()
                if anonymous_id is None or key == anonymous_id
            }
        body = json.loads(json.dumps({"site_id": site_id, "anonymous_events": events, "links": links}))
    body["anonymous_events"].sort(key=lambda event: event["received_at"])
    return Reply(200, body)


def _notes(emulator: "Emulator", site_id: str, kind: str | None) -> Reply:
    with emulator.store.lock:
        workspace = emulator.store.workspaces.get(site_id)
        all_notes = workspace.notes if workspace else []
        notes = [note.as_json() for note in all_notes if kind is None or note.kind == kind]
        body = json.loads(json.dumps({"site_id": site_id, "notes": notes}))
    return Reply(200, body)


def _requests(emulator: "Emulator", query: dict[str, str]) -> Reply:
    try:
        since = int(query.get("since", "0"))
    except ValueError:
        return Reply(400, {"error": "since must be an integer"})
    site_id = query.get("site_id")
    store = emulator.store
    with store.lock:
        entries = [
            entry
            for entry in store.request_log
            if entry["index"] >= since and (site_id is None or entry["site_id"] == site_id)
        ]
        body = json.loads(json.dumps({"requests": entries, "next": store.next_request_index}))
    return Reply(200, body)


def _stats(emulator: "Emulator", site_id: str | None) -> Reply:
    store = emulator.store
    with store.lock:
        per_second = dict(sorted(store.requests_per_second.items()))
        workspaces = {
            workspace.site_id: {
                "requests": workspace.requests,
                "events_accepted": workspace.events_accepted,
                "duplicates_ignored": workspace.duplicates_ignored,
                "people": len(workspace.people),
                "anonymous_events": sum(len(items) for items in workspace.anonymous_events.values()),
                "notes": len(workspace.notes),
            }
            for workspace in store.workspaces.values()
            if site_id is None or workspace.site_id == site_id
        }
        body = {
            "requests": store.requests_total,
            "by_status": dict(store.requests_by_status),
            "faulted": store.requests_faulted,
            "events_accepted": sum(w["events_accepted"] for w in workspaces.values()),
            "duplicates_ignored": sum(w["duplicates_ignored"] for w in workspaces.values()),
            "per_second": {str(second): count for second, count in per_second.items()},
            "max_per_second": max(per_second.values(), default=0),
            "workspaces": workspaces,
        }
    return Reply(200, body)


def _clock(
    emulator: "Emulator",
    method: str,
    raw: bytes,
) -> Reply:
    if method == "POST":
        data = _parse_object(raw)
        offset = data.get("offset_seconds") if data else None
        advance = data.get("advance_seconds") if data else None
        if offset is not None and isinstance(offset, int | float) and not isinstance(offset, bool):
            emulator.clock.set_offset(offset)
        elif advance is not None and isinstance(advance, int | float) and not isinstance(advance, bool):
            emulator.clock.advance(advance)
        else:
            return Reply(400, {"error": 'body must be {"offset_seconds": N} or {"advance_seconds": N}'})
    return Reply(200, {"offset_seconds": emulator.clock.offset_seconds, "now": emulator.clock.now()})


def _faults(
    emulator: "Emulator",
    method: str,
    raw: bytes,
) -> Reply:
    if method == "POST":
        try:
            emulator.faults.configure(FaultPolicy.from_json(_parse_object(raw)))
        except FaultPolicyError as error:
            return Reply(400, {"error": str(error)})
    elif method == "DELETE":
        emulator.faults.clear()
    return Reply(200, emulator.faults.policy.as_json())


def _html_page(emulator: "Emulator", site_id: str) -> str:
    """A small readable page; every value goes through `html.escape` since it is client-supplied."""
    with emulator.store.lock:
        workspace = emulator.store.workspaces.get(site_id)
        people = [person.as_json() for person in workspace.people.values()] if workspace else []
        recent = list(emulator.store.request_log[-HTML_RECENT_REQUESTS:])
    esc = html.escape
    person_rows = "".join(
        f"<tr><td>{esc(p['cio_id'])}</td><td>{esc(str(p['id']))}</td><td>{esc(str(p['email']))}</td>"
        f"<td><code>{esc(json.dumps(p['attributes']))}</code></td><td>{len(p['events'])}</td></tr>"
        for p in people
    )
    request_rows = "".join(
        f"<tr><td>{entry['index']}</td><td>{esc(entry['method'])}</td><td>{esc(entry['path'])}</td>"
        f"<td>{esc(str(entry['site_id']))}</td><td>{esc(str(entry['status']))}</td>"
        f"<td>{esc(str(entry['fault'] or ''))}</td><td>{esc(', '.join(entry['notes']))}</td></tr>"
        for entry in reversed(recent)
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Customer.io emulator</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head><body>"
        f"<h1>Customer.io emulator</h1><p>Workspace <b>{esc(site_id)}</b></p>"
        f"<h2>People ({len(people)})</h2><table><tr><th>cio_id</th><th>id</th><th>email</th>"
        f"<th>attributes</th><th>events</th></tr>{person_rows}</table>"
        f"<h2>Recent requests</h2><table><tr><th>#</th><th>method</th><th>path</th><th>site</th>"
        f"<th>status</th><th>fault</th><th>notes</th></tr>{request_rows}</table></body></html>"
    )
