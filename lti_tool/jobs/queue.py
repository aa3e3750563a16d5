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

    def enqueue(self, task: Task, *args: Any) -> None:
        """Run ``task(services, *args)`` in the background."""


class ThreadQueue:
    backend = "thread"

    def __init__(self, runner: ThreadJobRunner, services: Any) -> None:
        self._runner = runner
        self._services = services

    def enqueue(self, task: Task, *args: Any) -> None:
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

    def enqueue(self, task: Task, *args: Any) -> None:
        self._queue.enqueue(
            "lti_tool.jobs.tasks.run_task",
            task_name(task),
            *args,
            job_timeout=3600,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )
