"""What an RQ worker runs: resolve the task by its dotted path, with this worker's services."""

from __future__ import annotations

import importlib
from typing import Any

_services: Any = None


def worker_services() -> Any:
    """One set of services per worker process, built from the environment's settings."""
    global _services
    if _services is None:
        from lti_tool.container import build_services
        from lti_tool.settings import load_settings

        _services = build_services(load_settings())
    return _services


def use_services(services: Any) -> None:
    """Run tasks with these services (an in-process worker, as the tests use)."""
    global _services
    _services = services


def run_task(path: str, *args: Any) -> None:
    module_name, _, name = path.partition(":")
    if not module_name.startswith("lti_tool."):
        raise ValueError(f"refusing to run {path!r}: not a task of this tool")
    task = getattr(importlib.import_module(module_name), name)
    task(worker_services(), *args)
