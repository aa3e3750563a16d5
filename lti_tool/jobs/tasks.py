"""The tasks background jobs may run, by name, and the services they run with.

A task is a module-level function ``fn(services, *args)`` its owner marks with ``@task``; the
queue sends its name, the worker looks the name up here. Nothing else runs: an unknown name is
refused. Whoever starts a worker (``lti-tool worker``, a test draining the queue) imports the
owning modules (``load_tasks``) and says how to build services (``provide_services``): this
package knows neither the tool's features nor its container.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

Task = Callable[..., Any]
T = TypeVar("T", bound=Task)

_tasks: dict[str, Task] = {}
_factory: Callable[[], Any] | None = None
_services: Any = None


class UnknownTask(LookupError):
    """A job named a task nobody registered."""


def task(fn: T) -> T:
    """Register ``fn`` as a task under its function name."""
    name = fn.__name__
    known = _tasks.get(name)
    if known is not None and known is not fn:
        raise ValueError(f"two tasks are named {name!r}: {known.__module__}, {fn.__module__}")
    _tasks[name] = fn
    return fn


def task_name(fn: Task) -> str:
    """The name ``fn`` is registered under; refused when it is not a registered task."""
    name = getattr(fn, "__name__", "")
    if _tasks.get(name) is not fn:
        raise UnknownTask(f"{fn!r} is not a registered task")
    return name


def resolve(name: str) -> Task:
    try:
        return _tasks[name]
    except KeyError:
        raise UnknownTask(f"refusing to run {name!r}: not a task of this tool") from None


def load_tasks(modules: Iterable[str]) -> None:
    """Import the modules that own tasks, so their ``@task`` registrations are made."""
    for module in modules:
        importlib.import_module(module)


def provide_services(factory: Callable[[], Any]) -> None:
    """Run tasks with the services ``factory`` builds (once per worker process, on the first
    task)."""
    global _factory, _services
    _factory = factory
    _services = None


def worker_services() -> Any:
    global _services
    if _services is None:
        if _factory is None:
            raise RuntimeError("no services provided: call provide_services() first")
        _services = _factory()
    return _services


def run_task(name: str, *args: Any) -> None:
    """What an RQ job runs: the registered task ``name`` with this worker's services."""
    resolve(name)(worker_services(), *args)
