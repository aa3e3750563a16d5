"""AGS service URLs derived from a line item's URL.

A line item URL may carry a query (``…/lineitems/7?type_id=1``): the ``/scores`` or
``/results`` path goes before it, as pylti1p3 does internally (its helper is private, so
the tool keeps its own public one).
"""

from __future__ import annotations


def with_path_ending(url: str, ending: str) -> str:
    """``…/lineitem?type_id=1`` with ``scores`` → ``…/lineitem/scores?type_id=1``."""
    path, question, query = url.partition("?")
    path += "" if path.endswith("/") else "/"
    return path + ending + question + query
