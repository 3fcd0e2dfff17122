"""Rule 9 on Postgres: parallel requests never make two people for one identity, and never hang."""

import threading
from collections import Counter

import pytest
import requests
from django.db import connection

from conftest import SERVER_KEY
from identities.models import Identity, IdentityWarning, Person
from identities.services import PersonChangeRefused, person_merge
from identities.tests.lookups import by_anonymous, by_user, live_people

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
# Postgres reports a deadlock after deadlock_timeout (1 s); the victim's step retries. Anything
# still running after this is a hang, which is what the tests rule out.
HANG_SECONDS = 60


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the race needs a database with concurrent writers (Postgres)")


def run_in_parallel(*jobs) -> list[object]:
    """Start every job at once on its own thread (and connection); return each result or exception."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(index, job):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # reported to the test, which decides
            results[index] = error
        finally:
            thread_connection.close()

    workers = [threading.Thread(target=run, args=(index, job), daemon=True) for index, job in enumerate(jobs)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=HANG_SECONDS)
    assert not [worker for worker in workers if worker.is_alive()], "a request hung"
    return results


def post(live_server, messages: list[dict]):
    def send() -> int:
        response = requests.post(
            f"{live_server.url}/v1/batch", json={"batch": messages}, auth=(SERVER_KEY, ""), timeout=HANG_SECONDS
        )
        return response.status_code

    return send


def assert_one_owner_per_identity(workspace) -> None:
    counts = Counter(Identity.objects.filter(workspace=workspace).values_list("kind", "value"))
    assert max(counts.values(), default=1) == 1
    assert not Identity.objects.filter(workspace=workspace).exclude(person__merged_into=None).exists()


def test_it_makes_one_person_for_one_user_id_identified_in_parallel(live_server, workspace, server_source):
    jobs = [
        post(live_server, [{"type": "identify", "userId": "cust-1", "anonymousId": f"device-{i}"}])
        for i in range(THREADS)
    ]

    assert run_in_parallel(*jobs) == [200] * THREADS

    customer = by_user(workspace, "cust-1")
    assert all(by_anonymous(workspace, f"device-{i}") == customer for i in range(THREADS))
    assert list(live_people(workspace)) == [customer]
    assert_one_owner_per_identity(workspace)
    assert not IdentityWarning.objects.filter(kind=IdentityWarning.Kind.MERGE_RACE).exists()


def test_it_gives_one_anonymous_id_to_one_person_when_claimed_in_parallel(live_server, workspace, server_source):
    assert post(live_server, [{"type": "track", "event": "viewed", "anonymousId": "kiosk"}])() == 200
    jobs = [
        post(live_server, [{"type": "identify", "userId": f"cust-{i}", "anonymousId": "kiosk"}]) for i in range(THREADS)
    ]

    assert run_in_parallel(*jobs) == [200] * THREADS

    owner = by_anonymous(workspace, "kiosk")
    assert owner.customer_id in {f"cust-{i}" for i in range(THREADS)}
    assert live_people(workspace).count() == THREADS
    assert len({by_user(workspace, f"cust-{i}").pk for i in range(THREADS)}) == THREADS
    assert IdentityWarning.objects.filter(kind=IdentityWarning.Kind.SHARED_DEVICE).count() == THREADS - 1
    assert_one_owner_per_identity(workspace)


def test_it_survives_crossing_identifies_without_a_deadlock(live_server, workspace, server_source):
    seed = [{"type": "track", "event": "viewed", "anonymousId": value} for value in ("phone", "laptop")]
    assert post(live_server, seed)() == 200
    forward = [{"type": "identify", "userId": "cust-1", "anonymousId": value} for value in ("phone", "laptop")]
    jobs = [post(live_server, forward if i % 2 else list(reversed(forward))) for i in range(THREADS)]

    assert run_in_parallel(*jobs) == [200] * THREADS

    customer = by_user(workspace, "cust-1")
    assert by_anonymous(workspace, "phone") == customer == by_anonymous(workspace, "laptop")
    assert list(live_people(workspace)) == [customer]
    assert_one_owner_per_identity(workspace)


def test_it_lets_one_of_two_crossing_manual_merges_win(live_server, workspace, server_source):
    assert post(live_server, [{"type": "identify", "userId": f"cust-{i}"} for i in (1, 2)])() == 200
    one, two = by_user(workspace, "cust-1"), by_user(workspace, "cust-2")

    results = run_in_parallel(
        lambda: person_merge(survivor=one, merged_away=two), lambda: person_merge(survivor=two, merged_away=one)
    )

    assert sorted(type(result).__name__ for result in results) == ["Merge", PersonChangeRefused.__name__]
    [survivor] = live_people(workspace)
    assert by_user(workspace, "cust-1") == survivor == by_user(workspace, "cust-2")
    assert Person.objects.filter(workspace=workspace).exclude(merged_into=None).get().merged_into == survivor
