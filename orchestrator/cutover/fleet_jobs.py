"""procrastinate's job manager as the fleet needs it: a worker that was silent past the
stalled timeout (a paused process, an overloaded or suspended machine) and comes back neither
crashes nor robs the worker that took its job over.

procrastinate deletes the row of a worker whose heartbeat is older than the timeout (every
worker does at its start: a worker started while another is paused prunes it). The worker
itself does not know: its heartbeat then updates no row, its
running jobs have lost their `worker_id` (the foreign key is ON DELETE SET NULL) and look
stalled to every other worker for as long as they run, and its next fetch names a worker that
no longer exists (a foreign-key violation). Upstream describes the neighbouring orphaned-job
cases in procrastinate-org/procrastinate#1518. Here:

- the heartbeat re-registers a pruned worker under its own id and takes back the jobs it is
  still running whose `worker_id` was cleared (unless another worker has requeued them);
- a fetch makes sure the worker's row exists first;
- `keep_alive` (the fleet's watcher calls it) beats while jobs run, also while procrastinate's
  graceful stop waits for them with its own heartbeat cancelled;
- finishing or retrying a job is done only while the job is still this worker's (`doing`,
  with its `worker_id` or none: a fetch always sets one, so no other worker has it); a job
  another worker requeued while this one was silent is left as that worker has it, and
  `on_lost` is told the plan's name (the CLI says so in one line) instead of procrastinate's
  "Task exception was never retrieved" traceback.

Imports procrastinate: imported by `fleet.build_app` only, inside the function.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from procrastinate import jobs, manager

OnLost = Callable[[str], None]

_REGISTER = (
    "INSERT INTO procrastinate_workers(id, last_heartbeat) OVERRIDING SYSTEM VALUE "
    "VALUES (%(worker_id)s, now()) ON CONFLICT (id) DO UPDATE SET last_heartbeat = now()"
)
_ADOPT = (
    "UPDATE procrastinate_jobs SET worker_id = %(worker_id)s "
    "WHERE id = ANY(%(ids)s) AND status = 'doing' AND worker_id IS NULL"
)
_STILL_MINE = (
    "SELECT count(*) AS mine FROM procrastinate_jobs "
    "WHERE id = %(id)s AND status = 'doing' AND (worker_id = %(worker_id)s OR worker_id IS NULL)"
)


class FleetJobManager(manager.JobManager):
    """A `JobManager` that survives its worker being pruned while alive (module docstring).
    `running` holds the ids of the jobs this process runs now (the task keeps it)."""

    def __init__(self, connector: Any, on_lost: OnLost | None = None) -> None:
        super().__init__(connector)
        self.running: set[int] = set()
        self._on_lost = on_lost
        self._worker_id: int | None = None

    async def keep_alive(self) -> None:
        """The heartbeat while this process runs jobs, whatever procrastinate's worker does:
        its graceful stop cancels its own heartbeat before waiting for the running jobs (a
        SIGTERMed worker draining its plans would look dead to the others; upstream:
        procrastinate-org/procrastinate#1585). Called by the fleet's watcher."""
        if self.running and self._worker_id is not None:
            await self.update_heartbeat(self._worker_id)

    async def update_heartbeat(self, worker_id: int) -> None:
        """The heartbeat, re-registering a pruned worker and taking back its running jobs."""
        await self.connector.execute_query_async(_REGISTER, worker_id=worker_id)
        if self.running:
            await self.connector.execute_query_async(
                _ADOPT, worker_id=worker_id, ids=sorted(self.running)
            )

    async def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> jobs.Job | None:
        """A job for this worker, its row made sure of first (it may have been pruned)."""
        self._worker_id = worker_id
        await self.connector.execute_query_async(_REGISTER, worker_id=worker_id)
        return await super().fetch_job(queues, worker_id)

    async def finish_job(self, job: jobs.Job, status: jobs.Status, delete_job: bool) -> None:
        """Finish the job if it is still this worker's (else `on_lost`)."""
        if await self._still_mine(job):
            await super().finish_job(job, status, delete_job)

    async def retry_job(
        self,
        job: jobs.Job,
        retry_at: datetime.datetime | None = None,
        priority: int | None = None,
        queue: str | None = None,
        lock: str | None = None,
    ) -> None:
        """Put the job back for a retry if it is still this worker's (else `on_lost`)."""
        if await self._still_mine(job):
            await super().retry_job(job, retry_at, priority, queue, lock)

    async def _still_mine(self, job: jobs.Job) -> bool:
        """True while `job` is `doing` under this worker; else reports it lost."""
        row = await self.connector.execute_query_one_async(
            _STILL_MINE, id=job.id, worker_id=job.worker_id
        )
        if row["mine"]:
            return True
        if self._on_lost is not None:
            self._on_lost(str(job.task_kwargs.get("name", job.id)))
        return False
