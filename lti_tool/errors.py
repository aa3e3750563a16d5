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
