"""The task registry: jobs run registered tasks by name, with the services they were given."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lti_tool.jobs import tasks
from lti_tool.jobs.queue import ThreadQueue
from lti_tool.jobs.runner import ThreadJobRunner
from lti_tool.jobs.tasks import UnknownTask, provide_services, run_task, task, task_name

seen: list[tuple[Any, tuple[Any, ...]]] = []


@task
def record_call(services: Any, *args: Any) -> None:
    seen.append((services, args))


def not_registered(services: Any) -> None:
    raise AssertionError("an unregistered task ran")


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    seen.clear()
    before = (tasks._factory, tasks._services)
    yield
    tasks._factory, tasks._services = before


def test_a_registered_task_runs_by_name_with_the_provided_services() -> None:
    services = object()
    built: list[object] = []

    def factory() -> object:
        built.append(services)
        return services

    provide_services(factory)
    run_task("record_call", 1, "a")
    run_task("record_call", 2)

    assert seen == [(services, (1, "a")), (services, (2,))]
    assert built == [services]  # built once per worker


def test_an_unknown_task_name_is_refused() -> None:
    provide_services(object)

    with pytest.raises(UnknownTask, match="not a task of this tool"):
        run_task("lti_tool.container:build_services")
    assert seen == []


def test_an_unregistered_function_cannot_be_enqueued() -> None:
    runner = ThreadJobRunner(max_workers=1)
    try:
        with pytest.raises(UnknownTask):
            ThreadQueue(runner, object()).enqueue(not_registered)
        with pytest.raises(UnknownTask):
            task_name(not_registered)
    finally:
        runner.shutdown()


def test_the_thread_queue_runs_a_registered_task_with_its_services() -> None:
    services = object()
    runner = ThreadJobRunner(max_workers=1)
    ThreadQueue(runner, services).enqueue(record_call, 7)
    runner.shutdown()

    assert seen == [(services, (7,))]


held = threading.Event()


@task
def wait_to_be_let_go(services: Any) -> None:
    assert held.wait(30)


def test_the_thread_queue_knows_a_job_is_waiting_or_running_until_it_ends() -> None:
    held.clear()
    runner = ThreadJobRunner(max_workers=1)
    queue = ThreadQueue(runner, object())
    try:
        queue.enqueue(wait_to_be_let_go, job_key="first")
        queue.enqueue(wait_to_be_let_go, job_key="second")  # waits behind the first
        assert queue.is_waiting_or_running("first")
        assert queue.is_waiting_or_running("second")
        assert not queue.is_waiting_or_running("never queued")
    finally:
        held.set()
        runner.shutdown()
    assert not queue.is_waiting_or_running("first")
    assert not queue.is_waiting_or_running("second")


def test_two_tasks_cannot_share_a_name() -> None:
    def record_call(services: Any) -> None:  # same name, another function
        pass

    with pytest.raises(ValueError, match="two tasks are named 'record_call'"):
        task(record_call)


def test_tasks_run_without_services_provided_are_refused() -> None:
    tasks._factory, tasks._services = None, None

    with pytest.raises(RuntimeError, match="provide_services"):
        run_task("record_call")
    assert seen == []
