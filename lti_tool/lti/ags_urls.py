"""URLs under an AGS line item (its ``scores`` and ``results`` endpoints).

The spec puts them under the line item's path with its query kept:
``…/lineitem?type_id=1`` → ``…/lineitem/scores?type_id=1``. pylti1p3 builds them the same
way in a private helper, so the tool keeps its own.
"""

from __future__ import annotations


def lineitem_subpath(lineitem_url: str, ending: str) -> str:
    """``ending`` appended to the line item URL's path (one slash between), query kept."""
    path, question, query = lineitem_url.partition("?")
    path += "" if path.endswith("/") else "/"
    return path + ending + question + query
