"""The WARNING an operator follows up when completion could not be read: which refresh
(the request's correlation id, or the class refresh's job id), which registration and course,
which CPD course and what kind of failure. Never a token, a URL's query, a name or the
LMS's own words (they may quote what the tool sent); the pages show those to staff."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from lti_tool.lms.source import SourceError

log = logging.getLogger("lti_tool.completion")


def log_unreadable(
    reference: str | None,
    *,
    registration_pk: int,
    context_pk: int | None,
    source: str,
    status: str,
    errors: Sequence[SourceError] = (),
) -> None:
    """One line per CPD course that could not be read; one line for the whole student when
    the source failed before any course (``status`` "config" or "unavailable")."""
    common = {
        "reference": reference,
        "registration": registration_pk,
        "course": context_pk,
        "source": source,
        "status": status,
    }
    if not errors:
        log.warning("completion not read", extra={"fields": common})
        return
    for error in errors:
        fields = {**common, "cpd_course": error.course_code, "failure": type(error).__name__}
        log.warning("CPD course unreadable", extra={"fields": fields})
