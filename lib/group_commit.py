"""Group commit: callers in one process that arrive while a commit is in flight share the next one.

Leader and followers, as databases group their log flushes. A caller that finds no commit in flight
leads at once: it takes every item waiting (at most `max_items`, its own first), runs `commit` on them
in its own thread, gives each caller its outcome and hands the lead to the oldest caller still waiting.
A caller alone is never held back; only time a commit spends in flight is used to gather the next group.

When a group's commit raises, each of its items is committed again alone, so one item that cannot be
committed costs only its own caller: that caller gets the exception, the others their own outcomes.
"""

import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class _Ticket(Generic[Item]):
    __slots__ = ("done", "error", "item", "woken")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.woken = threading.Event()
        self.done = False  # committed, or failed with `error`; woken and not done: lead the next group
        self.error: BaseException | None = None


class GroupCommit(Generic[Item]):
    """Submit items from many threads; `commit(items)` runs for groups of them, one group at a time."""

    def __init__(self, commit: Callable[[list[Item]], None], *, max_items: int) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self._commit = commit
        self._max_items = max_items
        self._lock = threading.Lock()
        self._waiting: deque[_Ticket[Item]] = deque()
        self._leading = False  # a leader is committing; whoever waits is taken by it or led next

    def submit(self, item: Item) -> None:
        """Commit `item`, with whatever else is waiting; returns once it is committed, or raises its error."""
        ticket = _Ticket(item)
        with self._lock:
            self._waiting.append(ticket)
            leads = not self._leading
            self._leading = True
        if not leads:
            ticket.woken.wait()
        if not ticket.done:
            self._lead()
        if ticket.error is not None:
            raise ticket.error

    def _lead(self) -> None:
        # Only a leader takes from the queue, and it takes from the front: its own ticket is the oldest.
        with self._lock:
            group = [self._waiting.popleft() for _ in range(min(self._max_items, len(self._waiting)))]
        try:
            self._commit_group(group)
        finally:
            for ticket in group:
                if not ticket.done:  # only a BaseException out of commit leaves one undecided
                    ticket.done, ticket.error = True, RuntimeError("the group commit was interrupted")
            with self._lock:
                successor = self._waiting[0] if self._waiting else None
                self._leading = successor is not None
            for ticket in group[1:]:
                ticket.woken.set()
            if successor is not None:
                successor.woken.set()

    def _commit_group(self, group: list[_Ticket[Item]]) -> None:
        try:
            self._commit([ticket.item for ticket in group])
        except Exception as error:
            if len(group) == 1:
                group[0].done, group[0].error = True, error
                return
            for ticket in group:
                try:
                    self._commit([ticket.item])
                except Exception as alone:
                    ticket.error = alone
                ticket.done = True
            return
        for ticket in group:
            ticket.done = True


class GroupCommits(Generic[Item]):
    """One GroupCommit per key (items that may share a commit share a key), created on first use."""

    def __init__(self, commit: Callable[[list[Item]], None], *, max_items: int) -> None:
        self._commit = commit
        self._max_items = max_items
        self._lock = threading.Lock()
        self._groups: dict[Hashable, GroupCommit[Item]] = {}

    def submit(self, key: Hashable, item: Item) -> None:
        group = self._groups.get(key)
        if group is None:
            with self._lock:
                group = self._groups.setdefault(key, GroupCommit(self._commit, max_items=self._max_items))
        group.submit(item)
