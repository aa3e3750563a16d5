"""The error page needs nothing that may be down (issue 18): when rendering it the usual way
fails (a context processor asking the store who is signed in, while Redis is down), it is
rendered without the context processors instead of turning into a bare 500."""

from __future__ import annotations

from typing import Any

import redis

from tests.support.tooling import captured_logs


def test_an_error_page_whose_context_needs_the_store_still_renders(
    sqlite_tool_factory: Any,
) -> None:
    app = sqlite_tool_factory().app

    def asks_the_store() -> dict[str, Any]:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    app.template_context_processors[None].append(asks_the_store)
    with captured_logs() as stream:
        response = app.test_client().get("/no-such-page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404, page
    assert "Page not found" in page and response.headers["X-Request-ID"] in page
    assert '"msg": "error page rendered plainly"' in stream.getvalue()
    assert '"dependency": "store"' in stream.getvalue()
