"""Durable background jobs (grade sync, class refresh): a thread in this process by default,
RQ workers on Redis when ``redis_url`` is set (``lti-tool worker``).

A task is a module-level function ``fn(services, *args)`` registered with ``@task``
(``jobs/tasks.py``); RQ gets its name, and the worker runs it with the services it was given.
"""

from __future__ import annotations

from typing import Any, Protocol

from lti_tool.jobs.runner import ThreadJobRunner
from lti_tool.jobs.tasks import Task, provide_services, resolve, task_name

__all__ = ["QUEUE_NAME", "JobQueue", "RqQueue", "Task", "ThreadQueue"]

QUEUE_NAME = "lti-tool"


class JobQueue(Protocol):
    backend: str

    def enqueue(self, task: Task, *args: Any, job_key: str | None = None) -> None:
        """Run ``task(services, *args)`` in the background (``job_key``: a name the queue
        may keep it under)."""


class ThreadQueue:
    backend = "thread"

    def __init__(self, runner: ThreadJobRunner, services: Any) -> None:
        self._runner = runner
        self._services = services

    def enqueue(self, task: Task, *args: Any, job_key: str | None = None) -> None:
        self._runner.submit(resolve(task_name(task)), self._services, *args)


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
