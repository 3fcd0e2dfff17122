"""In-memory state: one `Workspace` per site_id, all guarded by the single lock of `Store`.

Nothing in this module takes the lock itself except `Store`; every `Workspace` method assumes the caller holds
`Store.lock`. One lock keeps the rules simple: the emulator is a test double, not a throughput engine.
"""

import threading
from dataclasses import dataclass, field
from typing import Any

from .contract import Identifier

# Contract "How Customer.io merges": anonymous events are kept up to 30 days.
ANONYMOUS_RETENTION_SECONDS = 30 * 24 * 3600
# How many Track requests the log keeps; indexes keep counting so `?since=N` paging stays valid.
REQUEST_LOG_LIMIT = 5000
# How many seconds of per-second request counts the stats keep.
PER_SECOND_WINDOW = 3600


@dataclass
class Event:
    """An accepted event, page or screen, on a person or still anonymous."""

    name: str
    type: str
    id: str | None
    timestamp: int
    data: dict[str, Any]
    received_at: float
    anonymous_id: str | None = None
    merged_from: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "id": self.id,
            "timestamp": self.timestamp,
            "data": self.data,
            "received_at": self.received_at,
            "anonymous_id": self.anonymous_id,
            "merged_from": self.merged_from,
        }


@dataclass
class AnonymousEvent:
    """An event kept under its anonymous_id; `late` means it came over 5 minutes after the identify."""

    event: Event
    late: bool = False
    linked_cio_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {**self.event.as_json(), "late": self.late, "linked_cio_id": self.linked_cio_id}


@dataclass
class AnonymousLink:
    """The identify that tied an anonymous_id to a person, and when (emulator clock)."""

    cio_id: str
    linked_at: float


@dataclass
class Person:
    """A profile, keyed internally by cio_id; `id` and `email` are optional identifiers."""

    cio_id: str
    created_at: float
    updated_at: float
    id: str | None = None
    email: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    anonymous_ids: list[str] = field(default_factory=list)
    last_update_timestamp: int | None = None
    relationships: Any = None
    subscription_preferences: Any = None

    @property
    def identifiers(self) -> list[Identifier]:
        found = [Identifier("cio_id", self.cio_id)]
        if self.id is not None:
            found.append(Identifier("id", self.id))
        if self.email is not None:
            found.append(Identifier("email", self.email))
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "cio_id": self.cio_id,
            "id": self.id,
            "email": self.email,
            "attributes": self.attributes,
            "events": [event.as_json() for event in self.events],
            "devices": list(self.devices.values()),
            "anonymous_ids": self.anonymous_ids,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "relationships": self.relationships,
            "subscription_preferences": self.subscription_preferences,
        }


@dataclass
class Note:
    """Something the emulator did instead of the obvious (ignored, refused, late); shown in inspection."""

    kind: str
    time: float
    detail: dict[str, Any]
    request_index: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": self.time,
            "detail": self.detail,
            "request_index": self.request_index,
        }


class Workspace:
    """Everything one site_id has sent. The caller must hold `Store.lock`."""

    def __init__(self, site_id: str) -> None:
        self.site_id = site_id
        self.people: dict[str, Person] = {}
        self.by_id: dict[str, str] = {}
        self.by_email: dict[str, str] = {}
        self.anonymous_events: dict[str | None, list[AnonymousEvent]] = {}
        self.anonymous_links: dict[str, AnonymousLink] = {}
        self.seen_event_ids: set[str] = set()
        # Suppression blocks a group of identifier keys; unsuppressing any of them frees the whole group.
        self.suppressed: dict[tuple[str, str], int] = {}
        self._suppression_groups: dict[int, set[tuple[str, str]]] = {}
        self.notes: list[Note] = []
        self.events_accepted = 0
        self.duplicates_ignored = 0
        self.requests = 0
        self.current_request_index: int | None = None
        self._next_cio = 0

    # People and their indexes.

    def find(self, identifier: Identifier) -> Person | None:
        kind, value = identifier.key
        if kind == "cio_id":
            return self.people.get(value)
        index = self.by_id if kind == "id" else self.by_email
        cio_id = index.get(value)
        return self.people.get(cio_id) if cio_id is not None else None

    def create_person(self, *, now: float, person_id: str | None = None, email: str | None = None) -> Person:
        self._next_cio += 1
        # Deterministic, hex-looking and never containing '@', so `cio_<x>` paths resolve unambiguously.
        person = Person(cio_id=f"e{self._next_cio:011x}", created_at=now, updated_at=now)
        self.people[person.cio_id] = person
        self.set_id(person, person_id)
        self.set_email(person, email)
        return person

    def set_id(self, person: Person, person_id: str | None) -> None:
        if person.id is not None:
            self.by_id.pop(person.id, None)
        person.id = person_id
        if person_id is not None:
            self.by_id[person_id] = person.cio_id

    def set_email(self, person: Person, email: str | None) -> None:
        if person.email is not None:
            self.by_email.pop(person.email.lower(), None)
        person.email = email
        if email is not None:
            self.by_email[email.lower()] = person.cio_id

    def remove_person(self, person: Person) -> None:
        self.set_id(person, None)
        self.set_email(person, None)
        del self.people[person.cio_id]

    # Suppression.

    def is_suppressed(self, identifier: Identifier) -> bool:
        return identifier.key in self.suppressed

    def suppress(self, identifiers: list[Identifier]) -> None:
        group = len(self._suppression_groups) + 1
        while group in self._suppression_groups:
            group += 1
        keys = {identifier.key for identifier in identifiers}
        self._suppression_groups[group] = keys
        for key in keys:
            self.suppressed[key] = group

    def unsuppress(self, identifier: Identifier) -> list[tuple[str, str]]:
        group = self.suppressed.get(identifier.key)
        if group is None:
            return []
        keys = self._suppression_groups.pop(group)
        for key in keys:
            self.suppressed.pop(key, None)
        return sorted(keys)

    # Anonymous events.

    def prune_anonymous(self, now: float) -> None:
        """Forget anonymous events received more than 30 days ago (contract: kept up to 30 days)."""
        cutoff = now - ANONYMOUS_RETENTION_SECONDS
        for anonymous_id in list(self.anonymous_events):
            kept = [item for item in self.anonymous_events[anonymous_id] if item.event.received_at >= cutoff]
            if kept:
                self.anonymous_events[anonymous_id] = kept
            else:
                del self.anonymous_events[anonymous_id]

    def note(self, kind: str, now: float, **detail: Any) -> None:
        self.notes.append(Note(kind=kind, time=now, detail=detail, request_index=self.current_request_index))


class Store:
    """All workspaces, the request log and counters, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything. Callers that are not `__init__` must hold `self.lock`."""
        self.workspaces: dict[str, Workspace] = {}
        self.request_log: list[dict[str, Any]] = []
        self.next_request_index = 0
        self.requests_total = 0
        self.requests_by_status: dict[str, int] = {}
        self.requests_faulted = 0
        self.requests_per_second: dict[int, int] = {}

    def workspace(self, site_id: str) -> Workspace:
        """The workspace for `site_id`, created on first use. Caller holds `self.lock`."""
        if site_id not in self.workspaces:
            self.workspaces[site_id] = Workspace(site_id)
        return self.workspaces[site_id]

    def reserve_request_index(self) -> int:
        """Give a request its log index before it is applied, so notes can point at it. Caller holds lock."""
        index = self.next_request_index
        self.next_request_index += 1
        return index

    def log_request(self, entry: dict[str, Any], *, now: float) -> None:
        """Append a finished request to the log and count it. Caller holds `self.lock`."""
        self.request_log.append(entry)
        if len(self.request_log) > REQUEST_LOG_LIMIT:
            del self.request_log[: len(self.request_log) - REQUEST_LOG_LIMIT]
        self.requests_total += 1
        status = str(entry["status"]) if entry["status"] is not None else "no_response"
        self.requests_by_status[status] = self.requests_by_status.get(status, 0) + 1
        if entry.get("fault"):
            self.requests_faulted += 1
        second = int(now)
        self.requests_per_second[second] = self.requests_per_second.get(second, 0) + 1
        for old in [s for s in self.requests_per_second if s < second - PER_SECOND_WINDOW]:
            del self.requests_per_second[old]
