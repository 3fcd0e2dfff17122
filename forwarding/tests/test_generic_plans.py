"""Forwarding's hot statements keep their partial indexes when Postgres plans them once for any parameters.

A statement a connection runs five times is prepared there (config/settings.py), and Postgres may then keep
one generic plan for it. Such a plan cannot use a partial index through a parameter (`state = $1` does not
prove the index's `state = 'pending'`): the oldest-pending look-up then sorted every pending row of the
workspace on each claim, and the claim scanned them all. Their states are written into the SQL instead
(lib/literals.py).
"""

import re

import pytest

from forwarding.selectors import delivery_oldest_pending_id, workspaces_with_due_deliveries
from forwarding.services import deliveries_release_stuck, delivery_claim_batch
from forwarding.tests.test_sending import ingest
from tests.plans import prepared_generic_plan, skip_unless_prepared_statements

RUNS = 8  # more than prepare_threshold's 5


@pytest.fixture(autouse=True)
def prepared_statements():
    skip_unless_prepared_statements()


@pytest.fixture
def backlog(api, workspace):
    messages = [{"type": "track", "userId": f"u-{n}", "event": "Viewed"} for n in range(3 * RUNS)]
    ingest(api, [("/v1/batch", {"batch": messages})])
    return workspace


def test_the_oldest_pending_lookup_reads_the_pending_index_in_order(backlog):
    for _ in range(RUNS):
        delivery_oldest_pending_id(backlog)
    plan = prepared_generic_plan('ORDER BY "forwarding_delivery"."workspace_id" ASC')
    assert "delivery_pending_idx" in plan and "Sort" not in plan, plan


def test_the_claim_walks_the_pending_index_and_the_open_lanes(backlog):
    for _ in range(RUNS):
        assert delivery_claim_batch(workspace=backlog, limit=1)
    plan = prepared_generic_plan("SKIP LOCKED")
    assert "delivery_pending_idx" in plan and "delivery_open_lane_idx" in plan, plan


def test_the_sweep_probes_a_partial_index_of_open_rows(backlog):
    for _ in range(RUNS):
        assert workspaces_with_due_deliveries() == [backlog.pk]
    plan = prepared_generic_plan('"forwarding_paused"')
    # Which one is the planner's choice on a table this small; before, none of them could serve it.
    assert re.search(r"Index Scan using delivery_(due|pending|open_lane)_idx", plan), plan


def test_releasing_stuck_claims_reads_only_the_rows_being_sent(backlog):
    for _ in range(RUNS):
        deliveries_release_stuck()
    plan = prepared_generic_plan('"claimed_at" < ')
    assert "delivery_sending_claimed_idx" in plan, plan
