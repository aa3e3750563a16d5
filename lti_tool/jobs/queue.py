"""Durable background jobs (grade sync, class refresh): a thread in this process by default,
RQ workers on Redis when ``redis_url`` is set (``lti-tool worker``).

A task is a module-level function ``fn(services, *args)`` registered with ``@task``
(``jobs/tasks.py``); RQ gets its name, and the worker runs it with the services it was given.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol

from lti_tool.jobs.owners import QueueOwner, ended_owners, forget, has_ended
from lti_tool.jobs.runner import ThreadJobRunner
from lti_tool.jobs.tasks import Task, provide_services, resolve, task_name

__all__ = ["QUEUE_NAME", "JobQueue", "RqQueue", "Task", "ThreadQueue"]

QUEUE_NAME = "lti-tool"


class JobQueue(Protocol):
    backend: str

    def enqueue(self, task: Task, *args: Any, job_key: str | None = None) -> None:
        """Run ``task(services, *args)`` in the background (``job_key``: a name the queue
        may keep it under)."""

    def is_waiting_or_running(self, job_key: str) -> bool:
        """Whether the job queued under ``job_key`` is still waiting or running."""

    @property
    def owner(self) -> str | None:
        """The name of this process's queue, recorded on a job it queues when the job lives
        and dies with the process (the thread queue's); None when the job outlives it (RQ)."""

    def lost(self, owner: str | None, job_key: str) -> bool:
        """True only when the job ``owner`` queued under ``job_key`` is certainly held by no
        queue and run by nobody: queued here and ended, or its owner's process has ended."""


class ThreadQueue:
    """Jobs on this process's threads; the owner (``owners.py``) names this process to the
    others, its file in ``owners`` (the instance folder's ``job-queues``)."""

    backend = "thread"

    def __init__(self, runner: ThreadJobRunner, services: Any, owners: Path | None = None) -> None:
        self._runner = runner
        self._services = services
        self._lock = threading.Lock()
        self._keys: dict[str, int] = {}  # job key → jobs under it not yet ended
        self._owners = owners
        self._owner: QueueOwner | None = None

    def enqueue(self, task: Task, *args: Any, job_key: str | None = None) -> None:
        fn = resolve(task_name(task))
        if job_key is None:
            self._runner.submit(fn, self._services, *args)
            return
        with self._lock:
            self._keys[job_key] = self._keys.get(job_key, 0) + 1
        try:
            future = self._runner.submit(fn, self._services, *args)
        except BaseException:
            self._ended(job_key)
            raise
        future.add_done_callback(lambda _: self._ended(job_key))

    def _ended(self, job_key: str) -> None:
        with self._lock:
            left = self._keys.pop(job_key, 1) - 1
            if left > 0:
                self._keys[job_key] = left

    def is_waiting_or_running(self, job_key: str) -> bool:
        """True while a job queued under ``job_key`` in this process has not ended (a
        thread job lives and dies with its process)."""
        with self._lock:
            return job_key in self._keys

    @property
    def owner(self) -> str | None:
        """Made on first use in each process (a forked child is not its parent)."""
        if self._owners is None:
            return None
        with self._lock:
            if self._owner is None or self._owner.pid != os.getpid():
                self._owner = QueueOwner(self._owners)
            return self._owner.name

    def lost(self, owner: str | None, job_key: str) -> bool:
        if owner is None or self._owners is None:
            return False
        if owner == self.owner:
            return not self.is_waiting_or_running(job_key)
        return has_ended(self._owners, owner)

    def ended_owners(self) -> list[str]:
        """The owners of other processes' thread queues that have ended."""
        if self._owners is None:
            return []
        with self._lock:
            mine = self._owner.name if self._owner is not None else None
        return [name for name in ended_owners(self._owners) if name != mine]

    def forget(self, owner: str) -> None:
        """Remove an ended owner's file, once no job names it."""
        if self._owners is not None:
            forget(self._owners, owner)

    def release(self) -> None:
        """This process's queue runs nothing any more (``Services.close`` after the runner
        stopped): its jobs left queued are for another process to take."""
        with self._lock:
            if self._owner is not None and self._owner.pid == os.getpid():
                self._owner.release()


class RqQueue:
    backend = "rq"

    def __init__(self, connection: Any, name: str = QUEUE_NAME) -> None:
        from rq import Queue

        # ``connection``: from lti_tool/redis_connection.py (connect and answer deadlines).
        self._queue = Queue(name, connection=connection)

    def work_in_process(self, services: Any) -> None:
        """Drain the queue here, without forking (tests and the demo use it)."""
        from rq import SimpleWorker

        provide_services(lambda: services)
        SimpleWorker([self._queue], connection=self._queue.connection).work(burst=True)

    def enqueue(self, task: Task, *args: Any, job_key: str | None = None) -> None:
        """``job_key`` names the RQ job, so ``is_waiting_or_running`` can find it later."""
        self._queue.enqueue(
            "lti_tool.jobs.tasks.run_task",
            task_name(task),
            *args,
            job_id=job_key,
            job_timeout=3600,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )

    def is_waiting_or_running(self, job_key: str) -> bool:
        """False when RQ no longer holds the job as queued or started: it finished, failed,
        or was lost with Redis (a restart keeps nothing)."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        try:
            job = Job.fetch(job_key, connection=self._queue.connection)
        except NoSuchJobError:
            return False
        alive = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
        return job.get_status(refresh=False) in alive

    @property
    def owner(self) -> str | None:
        """None: an RQ job outlives the process that queued it."""
        return None

    def lost(self, owner: str | None, job_key: str) -> bool:
        """Never certain: a Redis restart forgets a job whose worker is still posting (the
        maintenance sweep, ``grading/sync_sweep.py``, judges by the job's rows instead)."""
        return False
