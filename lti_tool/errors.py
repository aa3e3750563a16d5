"""Domain exceptions. ``web/errors.py`` is the one place that turns them into pages or JSON."""

from __future__ import annotations


class ToolError(Exception):
    """An error the user may see: a stable ``code``, a plain-words ``message`` and a status."""

    status = 400
    title = "Request refused"

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


class LaunchRefused(ToolError):
    """An LTI login or launch failed validation. ``new_window_url``, when set, restarts the
    login in a window of its own (where the browser keeps the tool's cookies)."""

    title = "This launch was refused"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        new_window_url: str | None = None,
        frame_origins: tuple[str, ...] = (),
    ) -> None:
        super().__init__(code, message, status=status)
        self.new_window_url = new_window_url
        # Set only once the launch's signature is verified: that platform (registered, but
        # not active yet) may then frame this refusal so its user reads why.
        self.frame_origins = frame_origins


class InvalidInput(ToolError):
    status = 422
    title = "Please check what was entered"


class NotAuthenticated(ToolError):
    status = 401
    title = "Please launch the tool again from your course"


# Said when a page or call comes without a launch the tool can find: the session ran out, the
# page was opened outside the course, or its token is not the tool's.
SESSION_ENDED = (
    "Your session with the pathway tool has ended, or this page was opened outside your "
    "course. Open the tool again from your course."
)


class Forbidden(ToolError):
    status = 403
    title = "Not allowed"


class NotFound(ToolError):
    status = 404
    title = "Not found"


class UpstreamError(ToolError):
    """An outside service (platform, LMS) failed or answered something unusable."""

    status = 502
    title = "The learning platform did not answer as expected"


# What a tutor calls the fields messages name (the JSON API keeps its field names in codes
# and bodies; the words it shows are the same as the pages').
FIELD_LABELS = {
    "completed_at": "Completed on",
    "started_at": "Started on",
    "start_date": "Start date",
    "override_reason": "Override reason",
    "expected_changed_at": "The time the result was last changed",
    "max": "Out of",
    "score": "Score",
    "outcome": "Outcome",
    "released": "Released",
    "comment": "Comment",
    "reason": "Reason",
    "status": "Status",
}


def field_label(field: str) -> str:
    """``completed_at`` → ``Completed on``; a name without a label (a module code) as it is."""
    return FIELD_LABELS.get(field, field)


def quoted(value: object) -> str:
    """A value as typed, in quotation marks (never Python's ``'…'`` or ``True``)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"“{value}”"
