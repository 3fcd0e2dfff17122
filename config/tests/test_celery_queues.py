"""Queues: forwarding's tasks never share a queue with the dashboards' and segments' periodic counts."""

import pytest

from config.celery import app

app.loader.import_default_modules()  # the apps' tasks modules, as a worker loads them


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(
    "task_name",
    [
        "forwarding.tasks.deliveries_send_task",
        "forwarding.tasks.deliveries_sweep_task",
        "tracking.tasks.orders_release_unconfirmed_task",
    ],
)
def test_forwarding_work_goes_to_the_default_queue(task_name):
    assert queue_of(task_name) == "celery"


@pytest.mark.parametrize(
    "task_name",
    [
        "segments.tasks.segments_snapshot_task",
        "segments.tasks.segments_snapshot_workspace_task",
        "dashboards.tasks.health_rollups_refresh_task",
    ],
)
def test_periodic_counts_go_to_the_maintenance_queue(task_name):
    assert task_name in app.tasks  # a renamed task would otherwise route to the default queue unnoticed
    assert queue_of(task_name) == "maintenance"


def test_a_worker_started_without_queues_takes_both():
    assert {queue.name for queue in app.conf.task_queues} == {"celery", "maintenance"}
