"""gunicorn from code, for ``lti-tool serve --workers N``."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _ToolServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        import gc

        from lti_tool import create_app

        app = create_app()
        # What the app keeps for the worker's life leaves the collector's generations: a full
        # collection no longer walks it (a ~60 ms pause every few hundred requests).
        gc.collect()
        gc.freeze()
        return app


def run_gunicorn(host: str, port: int, workers: int, threads: int) -> None:
    """Run ``workers`` processes, each building its own app (nothing shared but storage)."""
    _ToolServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": None,
            "timeout": 30,
            "graceful_timeout": 10,
            # LTI_TOOL_TRUSTED_PROXIES alone decides whose X-Forwarded-* headers count
            # (web/security.py): gunicorn's own default trusts X-Forwarded-Proto from
            # loopback (or FORWARDED_ALLOW_IPS) whatever the tool's setting says.
            "forwarded_allow_ips": "",
            "secure_scheme_headers": {},
        }
    ).run()
