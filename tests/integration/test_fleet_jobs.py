"""The fleet's job manager on the real PostgreSQL server: a worker that procrastinate pruned
while it was alive (silent past the stalled timeout) fetches, heartbeats and finishes as
itself, and leaves alone a job another worker took over (orchestrator/cutover/fleet_jobs.py).

Each test drives procrastinate's own manager calls on a throwaway database, as a worker would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest
from pgstate import fleet_database
from procrastinate import jobs
from procrastinate.utils import utcnow

from orchestrator.cutover.fleet import QUEUE, TASK, add_plans, build_app
from orchestrator.state.fleet_registry import FleetPlan
from orchestrator.state.postgres import PgLocation


@pytest.fixture
def database() -> Iterator[PgLocation]:
    for url in fleet_database():
        yield PgLocation(url, "")


@pytest.fixture
async def app(database: PgLocation) -> AsyncIterator[tuple[Any, list[str]]]:
    """Two plans queued; a worker-side app whose `on_lost` calls are collected."""
    plans = [
        FleetPlan(
            name=f"p{i}",
            account_id=f"99{i}",
            plan_path=f"/plans/p{i}.toml",
            target="http://127.0.0.1:9/api/v2",
            numbers=1,
            added_at=0.0,
        )
        for i in range(2)
    ]
    await add_plans(database, plans)
    lost: list[str] = []
    worker_app = build_app(database, worker="w", on_lost=lost.append)
    async with worker_app.open_async():
        yield worker_app, lost


def _rows(database: PgLocation, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.url, autocommit=True) as conn:
        return conn.execute(query).fetchall()


async def _prune_everyone(app: Any) -> None:
    """What another worker's start does once this one's heartbeat is old enough."""
    await app.job_manager.prune_stalled_workers(0)


async def _fetched_then_pruned(app: Any) -> tuple[Any, jobs.Job]:
    """A worker registers and fetches a job, then is pruned while alive; its manager, the job."""
    manager = app.job_manager
    job = await manager.fetch_job([QUEUE], await manager.register_worker())
    assert job is not None
    await _prune_everyone(app)
    return manager, job


def _status(database: PgLocation, job: jobs.Job) -> list[tuple[Any, ...]]:
    return _rows(database, f"SELECT status::text FROM procrastinate_jobs WHERE id = {job.id}")


async def test_a_pruned_worker_fetches_under_its_own_id(
    app: tuple[Any, list[str]], database: PgLocation
) -> None:
    manager = app[0].job_manager
    worker = await manager.register_worker()
    await _prune_everyone(app[0])
    job = await manager.fetch_job([QUEUE], worker)  # procrastinate alone: foreign-key error
    assert job is not None and job.worker_id == worker
    assert _rows(database, "SELECT id FROM procrastinate_workers") == [(worker,)]


async def test_the_heartbeat_re_registers_and_takes_back_only_its_running_jobs(
    app: tuple[Any, list[str]], database: PgLocation
) -> None:
    manager = app[0].job_manager
    worker = await manager.register_worker()
    mine = await manager.fetch_job([QUEUE], worker)
    other = await manager.fetch_job([QUEUE], worker)
    assert mine is not None and other is not None
    manager.running.add(mine.id)
    await _prune_everyone(app[0])
    assert _rows(database, "SELECT count(*) FROM procrastinate_jobs WHERE worker_id IS NULL") == [
        (2,)
    ]
    await manager.update_heartbeat(worker)
    owners = dict(_rows(database, "SELECT id, worker_id FROM procrastinate_jobs"))
    assert owners == {mine.id: worker, other.id: None}
    assert _rows(database, "SELECT id FROM procrastinate_workers") == [(worker,)]
    stalled = await manager.get_stalled_jobs(task_name=TASK, seconds_since_heartbeat=3600)
    assert [j.id for j in stalled] == [other.id]


async def test_a_job_requeued_by_another_worker_is_not_finished_again(
    app: tuple[Any, list[str]], database: PgLocation
) -> None:
    worker_app, lost = app
    manager, job = await _fetched_then_pruned(worker_app)
    other = await manager.register_worker()
    await manager.retry_job_by_id_async(job.id, retry_at=utcnow())
    taken = await manager.fetch_job([QUEUE], other)
    assert taken is not None and taken.id == job.id
    await manager.finish_job(job, jobs.Status.SUCCEEDED, delete_job=False)
    await manager.retry_job(job)
    assert lost == ["p0", "p0"]
    assert _rows(database, f"SELECT status::text, worker_id FROM procrastinate_jobs "
                           f"WHERE id = {job.id}") == [("doing", other)]  # fmt: skip
    await manager.finish_job(taken, jobs.Status.SUCCEEDED, delete_job=False)
    assert _status(database, job) == [("succeeded",)]
    assert lost == ["p0", "p0"]


async def test_a_pruned_worker_still_finishes_the_job_nobody_took(
    app: tuple[Any, list[str]], database: PgLocation
) -> None:
    worker_app, lost = app
    manager, job = await _fetched_then_pruned(worker_app)
    await manager.finish_job(job, jobs.Status.SUCCEEDED, delete_job=False)
    assert lost == []
    assert _status(database, job) == [("succeeded",)]
