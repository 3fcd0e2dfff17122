"""The forwarding nudge: at most one send enqueued per workspace and window across processes, and a process
that knows the window is taken does not ask the cache again until it ends (forwarding/tasks.py).

Real cache (Redis, or the embedded file cache) and real publishing to the broker; what was published is
seen through Celery's own signal.
"""

import time

import pytest
from celery.signals import before_task_publish
from django.core.cache import cache

from forwarding import tasks

WORKSPACE_ID = 987_654_321  # no such workspace: a worker that takes the task finds nothing to send
KEY = f"seam:forwarding:nudge:{WORKSPACE_ID}"


@pytest.fixture
def published():
    sent: list[tuple] = []

    def record(sender=None, headers=None, **kwargs):
        if sender == tasks.deliveries_send_task.name:
            sent.append(tuple(kwargs["body"][0]))

    before_task_publish.connect(record, weak=False)
    cache.delete(KEY)
    tasks._window_ends.pop(WORKSPACE_ID, None)
    yield sent
    before_task_publish.disconnect(record)
    cache.delete(KEY)
    tasks._window_ends.pop(WORKSPACE_ID, None)


def test_one_send_is_enqueued_per_window(published):
    tasks.deliveries_nudge_now(WORKSPACE_ID)
    tasks.deliveries_nudge_now(WORKSPACE_ID)
    assert published == [(WORKSPACE_ID,)]
    assert cache.get(KEY) == pytest.approx(time.time() + tasks.NUDGE_DEBOUNCE_SECONDS, abs=0.5)

    time.sleep(tasks.NUDGE_DEBOUNCE_SECONDS + 0.1)
    tasks.deliveries_nudge_now(WORKSPACE_ID)
    assert published == [(WORKSPACE_ID,), (WORKSPACE_ID,)]


def test_a_window_another_process_holds_is_learned_and_then_ends(published):
    other_ends = time.time() + 0.5
    assert cache.add(KEY, other_ends, timeout=1)  # another process nudged just now

    tasks.deliveries_nudge_now(WORKSPACE_ID)
    assert published == []
    assert tasks._window_ends[WORKSPACE_ID] == pytest.approx(other_ends)  # inside it the cache is not asked

    time.sleep(0.6)
    cache.delete(KEY)  # the other window has ended (Redis expires it by the second; the file cache too)
    tasks.deliveries_nudge_now(WORKSPACE_ID)
    assert published == [(WORKSPACE_ID,)]


def test_a_window_end_far_in_the_future_is_not_believed(published):
    assert cache.add(KEY, time.time() + 3600, timeout=1)  # a wrong clock elsewhere must not silence this process

    tasks.deliveries_nudge_now(WORKSPACE_ID)
    assert tasks._window_ends[WORKSPACE_ID] <= time.time() + tasks.NUDGE_DEBOUNCE_SECONDS
