"""The fleet: many plans (one per account) in one PostgreSQL database, driven by any number of
workers on any number of machines, with procrastinate claiming the work.

    fleet add   registers the plans (`orchestrator.state.fleet_registry`) and defers one
                procrastinate job per plan, locked by its account
    worker      runs procrastinate's worker on those jobs until none is left

One job drives one plan: it runs `bwmigrate run PLAN --state postgresql://...#PLAN` to its end
(the runner the CLI passes in), so an account's rate limit stays in one process. Exactly one
worker drives an account at a time, twice over: procrastinate's job `lock` (one account, one
running job) and the plan's lease (a session advisory lock, `orchestrator.state.lease`). A
worker that dies (SIGKILL, a lost machine) stops sending its heartbeat; every worker looks for
jobs whose worker has been silent for `stalled_after_s` and puts them back in the queue
(procrastinate's stalled-job detection), and the next run of the plan resumes it by the
exactly-once protocol (the intent committed before each POST, reconciled by CustomerOrderId).
The run is a child process that dies with its worker (PR_SET_PDEATHSIG, set by the runner), so
its advisory lock goes with it. A worker that was only late (paused, overloaded) keeps its
jobs: see `fleet_jobs`.

A run that ends 0 or 1 (every number done, some failed) finishes its job; any other exit (an
interrupted or refused run) fails the attempt and procrastinate retries it, up to
`MAX_ATTEMPTS`. procrastinate and psycopg are imported inside the functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from orchestrator.errors import BwmigrateError, ExitCode
from orchestrator.state.fleet_registry import FleetPlan, read_plans, record_exit, register_plans
from orchestrator.state.lease import HELD_PG
from orchestrator.state.postgres import PgLocation, pg_error, schema_of

TASK = "bwmigrate.drive_plan"
QUEUE = "bwmigrate"
MAX_ATTEMPTS = 5
RETRY_WAIT_S = 2
LOCKED_WAIT_S = 15  # x MAX_ATTEMPTS outlasts the lease of a vanished machine (postgres.py)
FINISHED_EXITS = frozenset({0, 1})
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

Runner = Callable[[FleetPlan, PgLocation], Awaitable[int]]
OnLost = Callable[[str], None]


class FleetRunError(BwmigrateError):
    """A plan's run ended without finishing (its job is retried)."""

    exit_code = ExitCode.ABORTED


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How a worker runs: parallel plans, heartbeat silence that marks a worker dead, polls."""

    concurrency: int = 1
    stalled_after_s: float = 30.0
    poll_s: float = 1.0
    name: str = ""


@contextlib.contextmanager
def translated_errors(database: PgLocation) -> Iterator[None]:
    """procrastinate's and psycopg's errors (a server down, a refused connection) become one
    `StateFileError` line naming the database."""
    import procrastinate.exceptions
    import psycopg
    import psycopg_pool

    try:
        yield
    except (procrastinate.exceptions.ProcrastinateException, psycopg.Error,
            psycopg_pool.PoolTimeout) as exc:  # fmt: skip
        cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
        raise pg_error(database, cause) from exc


def build_app(
    database: PgLocation,
    runner: Runner | None = None,
    worker: str = "",
    on_lost: OnLost | None = None,
) -> Any:
    """A procrastinate app on the fleet's database, with the one task: drive a plan. Its job
    manager survives the worker being pruned while alive (`fleet_jobs`); `on_lost` hears the
    name of a plan whose job another worker took over while this one was silent."""
    import procrastinate

    from orchestrator.cutover.fleet_jobs import FleetJobManager

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=database.url))
    jobs = app.job_manager = FleetJobManager(app.connector, on_lost)

    @app.task(
        name=TASK,
        queue=QUEUE,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=MAX_ATTEMPTS, wait=RETRY_WAIT_S),
    )
    async def drive_plan(context: Any, name: str) -> int:
        assert runner is not None, "only a worker runs jobs"
        plans = {p.name: p for p in await anyio.to_thread.run_sync(read_plans, database)}
        plan = plans[name]
        jobs.running.add(context.job.id)
        try:
            code = await runner(plan, database.for_plan(name))
        finally:
            jobs.running.discard(context.job.id)
        await anyio.to_thread.run_sync(record_exit, database, name, code, worker)
        if code == ExitCode.LOCKED:  # another run holds the plan (one started outside the
            await anyio.sleep(LOCKED_WAIT_S)  # fleet, or a vanished machine's, until dropped)
        if code not in FINISHED_EXITS:
            raise FleetRunError(f"plan {name}: the run ended with exit {code}; retried")
        return code

    return app


async def add_plans(
    database: PgLocation, plans: Sequence[FleetPlan], replacing: Sequence[str] = ()
) -> list[int]:
    """Register the plans (replacing those named in `replacing`) and queue one job per plan
    (procrastinate's tables are created on the first fleet of a database). A replaced plan
    whose job still waits keeps it (the job reads the plan when it runs). Returns the ids of
    the jobs queued."""
    import procrastinate.exceptions

    await anyio.to_thread.run_sync(register_plans, database, plans, replacing)
    app = build_app(database)
    async with app.open_async():
        if not await _has_procrastinate_schema(app):
            await app.schema_manager.apply_schema_async()
        task = app.tasks[TASK]
        queued = []
        for p in plans:
            job = task.configure(lock=f"account:{p.account_id}", queueing_lock=f"plan:{p.name}")
            try:
                queued.append(await job.defer_async(name=p.name))
            except procrastinate.exceptions.AlreadyEnqueued:
                if p.name not in replacing:
                    raise
        return queued


async def _has_procrastinate_schema(app: Any) -> bool:
    """True when procrastinate's tables are in the database."""
    rows = await app.connector.execute_query_all_async(
        "SELECT 1 FROM information_schema.tables WHERE table_name='procrastinate_jobs'"
    )
    return bool(rows)


async def run_worker(
    database: PgLocation, runner: Runner, settings: WorkerSettings, on_lost: OnLost | None = None
) -> bool:
    """Drive the fleet's plans until no job is waiting or running anywhere (a dead worker's
    jobs are put back in the queue once its heartbeat is `stalled_after_s` old). SIGTERM or
    SIGINT stops it once the plans it drives end (procrastinate's graceful stop: it takes no
    new plan). `on_lost`: see `build_app`. Returns True when it was stopped so, False when
    the fleet is done."""
    name = settings.name or f"{socket.gethostname()}"
    app = build_app(database, runner, name, on_lost)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def stop() -> None:
        stopping.set()
        if current is not None:
            current.cancel()  # once: procrastinate then waits for its running jobs

    current: asyncio.Task[None] | None = None
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, stop)
    try:
        async with app.open_async():
            if stopping.is_set():  # signalled while connecting: take no plan
                return True
            current = asyncio.ensure_future(app.run_worker_async(**_worker_options(settings, name)))
            watcher = asyncio.ensure_future(_watch(app, settings, current))
            try:
                await asyncio.wait((current, watcher), return_when=asyncio.FIRST_COMPLETED)
                if watcher.done() and watcher.exception() is not None:
                    current.cancel()  # the database failed: take no new plan, then say so
                with contextlib.suppress(asyncio.CancelledError):
                    await current
            finally:
                watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher  # raises what failed in it
    finally:
        for sig in _STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    return stopping.is_set()


async def _watch(app: Any, settings: WorkerSettings, worker: asyncio.Task[None]) -> None:
    """Beside procrastinate's worker, every `poll_s` (or a quarter of `stalled_after_s`):
    beat for this worker while its plans run (`FleetJobManager.keep_alive`: also through a
    graceful stop), put back in the queue the jobs of dead workers (also while this worker is
    busy: a takeover waits for no one's queue to drain), and stop the worker gracefully once
    no job is waiting or running anywhere."""
    every = min(settings.poll_s, max(settings.stalled_after_s / 4, 0.25))
    while not worker.done():
        await app.job_manager.keep_alive()
        await requeue_stalled(app, settings.stalled_after_s)
        if await open_jobs(app) == 0:
            worker.cancel()  # procrastinate's graceful stop; it runs nothing now
            return
        await asyncio.sleep(every)


def _worker_options(settings: WorkerSettings, name: str) -> dict[str, Any]:
    """procrastinate's worker options: poll for jobs (retries and requeued ones come back at
    any time) until `_watch` stops it, our own signal handling."""
    return {
        "queues": [QUEUE], "name": name, "concurrency": settings.concurrency, "wait": True,
        "listen_notify": False, "install_signal_handlers": False,
        "fetch_job_polling_interval": settings.poll_s,
        "update_heartbeat_interval": max(settings.stalled_after_s / 4, 0.5),
        "stalled_worker_timeout": settings.stalled_after_s,
    }  # fmt: skip


async def requeue_stalled(app: Any, stalled_after_s: float) -> int:
    """Put back in the queue the jobs of workers silent for `stalled_after_s` whose run is
    gone (the plan's lease, its advisory lock, is free); how many. A job whose run still
    holds the lease stays: its worker is late with its heartbeat (a loaded or paused
    machine), not dead, and a second run would only be refused ("locked") and spend the
    job's attempts. A requeue is not a failed attempt: procrastinate counts one, taken back
    here. A job another worker requeued first is left to it."""
    import procrastinate.exceptions
    from procrastinate.utils import utcnow

    stalled = await app.job_manager.get_stalled_jobs(
        task_name=TASK, seconds_since_heartbeat=stalled_after_s
    )
    requeued = 0
    for job in stalled:
        if await plan_held(app, job.task_kwargs["name"]):
            continue
        try:
            await app.job_manager.retry_job_by_id_async(job.id, retry_at=utcnow())
        except procrastinate.exceptions.ConnectorException:
            continue  # no longer `doing`: requeued by another worker, or finished
        await app.connector.execute_query_async(
            "UPDATE procrastinate_jobs SET attempts = greatest(attempts - 1, 0) WHERE id = %(id)s",
            id=job.id,
        )
        requeued += 1
    return requeued


async def plan_held(app: Any, name: str) -> bool:
    """True while a run holds plan `name`'s lease (a session advisory lock), read from
    pg_locks without taking it."""
    row = await app.connector.execute_query_one_async(
        f"{HELD_PG.format(key='%(key)s')} AS held", key=schema_of(name)
    )
    return bool(row["held"])


async def open_jobs(app: Any) -> int:
    """How many of the fleet's jobs are waiting or running, read in one statement (two reads,
    one per status, could both miss a job moving between them, and a worker would end early
    while another still drives a plan)."""
    row = await app.connector.execute_query_one_async(
        "SELECT count(*) AS open FROM procrastinate_jobs "
        "WHERE task_name = %(task)s AND status IN ('todo', 'doing')",
        task=TASK,
    )
    return int(row["open"])


async def job_states(database: PgLocation) -> dict[str, tuple[str, int]]:
    """Each plan's latest job: (status, attempts), by plan name."""
    app = build_app(database)
    async with app.open_async():
        if not await _has_procrastinate_schema(app):
            return {}
        found: dict[str, tuple[str, int]] = {}
        for job in sorted(await app.job_manager.list_jobs_async(task=TASK), key=lambda j: j.id):
            found[job.task_kwargs["name"]] = (job.status, job.attempts)
        return found


async def withdraw_jobs(database: PgLocation, names: Sequence[str]) -> list[str]:
    """Delete the waiting jobs of these plans (finished ones stay, as history); the names of
    those whose job a worker is driving now (then nothing is deleted: the caller refuses)."""
    app = build_app(database)
    async with app.open_async():
        if not await _has_procrastinate_schema(app):
            return []
        jobs = [j for j in await app.job_manager.list_jobs_async(task=TASK)
                if j.task_kwargs["name"] in names]  # fmt: skip
        busy = sorted({j.task_kwargs["name"] for j in jobs if j.status == "doing"})
        if busy:
            return busy
        for job in (j for j in jobs if j.status == "todo"):
            if not await app.job_manager.cancel_job_by_id_async(job.id, delete_job=True):
                busy.append(job.task_kwargs["name"])  # taken by a worker in the meantime
        return busy
