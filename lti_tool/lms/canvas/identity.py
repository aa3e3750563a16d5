"""Which Canvas user a student is, as Canvas itself says from their LTI ``sub``.

Canvas's ``sub`` is opaque, and the custom parameter ``canvas_user_id`` ($Canvas.user.id)
cannot be trusted: Canvas merges a link's own custom parameters over the tool's, and a teacher
sets those on an assignment, so a literal id of another student reaches the launch unchanged.
Canvas's API names a user by the ``sub`` of their LTI 1.3 launches (``lti_1_3_id:<sub>``,
``doc/api/object_ids``), but its modules list takes only Canvas's own id for ``student_id``: so
the id is asked of Canvas (``GET /api/v1/courses/:course/users/lti_1_3_id:<sub>``, which needs
the roster of that course), once per fetch. First in the course the student was seen in (their
membership there is current, where a finished CPD course may list them no more), then in the
CPD course about to be read; Canvas not listing them there means they are not in that course.
"""

from __future__ import annotations

import threading

from lti_tool.lms.canvas.client import CanvasRestClient
from lti_tool.lms.canvas.parsing import CanvasApiError
from lti_tool.lms.source import LmsUser

BY_SUB = "lti_1_3_id:"
COURSE_BY_LTI_ID = "lti_context_id:"


def canvas_user(sub: str, lti_context_id: str | None) -> LmsUser:
    """The student named to Canvas by their LTI ``sub``, seen in the LTI context given."""
    course = f"{COURSE_BY_LTI_ID}{lti_context_id}" if lti_context_id else None
    return LmsUser(f"{BY_SUB}{sub}", course)


class CanvasIdentity:
    """One student's Canvas id, asked of Canvas at most once per course during one fetch
    (the fetch's courses are read on a few threads at once)."""

    def __init__(self, client: CanvasRestClient, user: LmsUser) -> None:
        self._client = client
        self._ref = user.user_id
        # An id Canvas gave (tests and tools name students by it) is Canvas's own already.
        self._found = user.user_id if user.user_id.isdigit() else None
        self._home = user.course
        self._lock = threading.Lock()

    def id_in(self, course_id: str) -> str:
        """The student's Canvas id, to read course ``course_id`` with; a ``CanvasApiError``
        (404 when Canvas lists no such member of the course) when Canvas does not say."""
        with self._lock:
            if self._found is None and self._home is not None:
                home, self._home = self._home, None
                self._found = self._from_home(home)
            if self._found is None:
                self._found = self._client.member_id(course_id, self._ref)
            if self._found is None:
                what = f"GET /api/v1/courses/{course_id}/users/{self._ref}"
                raise CanvasApiError(404, ["no such member of the course"], what)
            return self._found

    def _from_home(self, home: str) -> str | None:
        if home in self._client.unreadable_rosters:
            return None
        try:
            return self._client.member_id(home, self._ref)
        except CanvasApiError as exc:
            if exc.status in (401, 403):  # the token's user may not see that course's people
                self._client.unreadable_rosters.add(home)
                return None
            raise
