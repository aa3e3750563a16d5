"""Real-browser helpers for pages bound to their launch (lti_tool/web/page_binding.py): every
link of the tool names the launch its page belongs to (``lti_binding=…``)."""

from __future__ import annotations

import re
from typing import Any


def bound_url(tool_url: str, path: str) -> re.Pattern[str]:
    """``tool_url + path`` as the tool's own links write it: naming a launch."""
    separator = "&" if "?" in path else r"\?"
    return re.compile("^" + re.escape(tool_url + path) + separator + r"lti_binding=[\w-]+$")


def page_binding(page: Any) -> str:
    """The launch the page in ``page`` belongs to (its ``lti-binding`` meta tag)."""
    binding = page.get_attribute('meta[name="lti-binding"]', "content")
    assert binding, "the page names no launch"
    return str(binding)


def goto_bound(page: Any, url: str) -> Any:
    """Go to ``url`` the way the current page's own link would: naming the page's launch."""
    separator = "&" if "?" in url else "?"
    return page.goto(f"{url}{separator}lti_binding={page_binding(page)}")


def without_binding(href: str) -> str:
    """A link of the tool minus the ``lti_binding`` it must carry."""
    path, found, _ = href.partition("?lti_binding=")
    assert found, f"{href} names no launch"
    return path


def landed(tool_url: str) -> re.Pattern[str]:
    """The page a cookie-bound launch redirects to (post/redirect/get): the checklist or the
    staff overview, naming the launch."""
    return re.compile("^" + re.escape(tool_url) + r"/(me|staff/)\?lti_binding=[\w-]+$")
