"""Moodle's refusals translated for the administrator who has to fix them.

Moodle answers errors with HTTP 200 and ``{exception, errorcode, message}``. Some concern the
whole source (the token, the external service) and some one course (no completion criteria, a
wrong course id, a missing capability there). Each message says what to change and where. A
course without completion criteria (or an activity without completion tracking) is a
``CourseUntrackable``: Moodle answered, and cannot tell.
"""

from __future__ import annotations

import requests

from lti_tool.lms.moodle.parsing import MoodleWsError
from lti_tool.lms.source import CourseUntrackable, SourceConfigError, SourceError

_WS_ADMIN = "Site administration > Server > Web services"
_USER_CANNOT_LOG_IN = frozenset(
    {
        "wsaccessuserdeleted",
        "wsaccessusersuspended",
        "wsaccessusernologin",
        "wsaccessuserexpired",
        "usernotfullysetup",
        "forcepasswordchangenotice",
    }
)
_NO_PERMISSION = frozenset(
    {"cannotviewreport", "nopermissions", "accessdenied", "requireloginerror", "nopermission"}
)
_NO_COURSE = frozenset({"invalidrecord", "invalidcourseid", "coursehidden"})


def service_problem(function: str, error: MoodleWsError) -> SourceConfigError | None:
    """A source-wide configuration error for ``error``, or ``None`` if it is about one call."""
    code = error.errorcode
    if code == "invalidtoken":
        return SourceConfigError(
            f"Moodle does not recognise the web-service token (invalidtoken: {error.ws_message}). "
            f"Create a token for the integration user under {_WS_ADMIN} > Manage tokens and "
            "enter it in the tool's Moodle settings."
        )
    if code == "invalidtimedtoken":
        return SourceConfigError(
            f"The Moodle web-service token has expired ({error.ws_message}): issue a new one "
            f"under {_WS_ADMIN} > Manage tokens."
        )
    if code == "accessexception":
        return SourceConfigError(
            f"Moodle refused the token for {function} (accessexception: {error.ws_message}). "
            f"Add {function} to the token's external service ({_WS_ADMIN} > External services "
            "> Functions); check the token has not expired or been limited to other IP "
            "addresses, and that its user has the capability webservice/rest:use."
        )
    if code == "servicenotavailable":
        return SourceConfigError(
            f"The token's Moodle external service is disabled or gone ({error.ws_message}): "
            f"enable it under {_WS_ADMIN} > External services, and if it is restricted to "
            "authorised users, add the token's user."
        )
    if code in _USER_CANNOT_LOG_IN:
        return SourceConfigError(
            f"The Moodle user behind the web-service token cannot log in ({code}: "
            f"{error.ws_message}): reactivate that account or issue a token for another."
        )
    if code == "invalidrecord" and "external_functions" in error.ws_message:
        return SourceConfigError(
            f"This Moodle does not have the web-service function {function} "
            "(it needs Moodle 3.x or later with completion enabled)."
        )
    return None


def course_problem(
    error: MoodleWsError, course_id: int, codes: list[str], user_id: int
) -> list[SourceError]:
    """Per-course errors (one per CPD code) for a Moodle refusal about ``course_id``.

    Raises a source-wide ``SourceConfigError`` when Moodle does not know the user at all.
    """
    code = error.errorcode
    mapped = ", ".join(codes)
    message: str
    if code == "invaliduser":
        raise SourceConfigError(
            f"Moodle has no user with id {user_id}. The web-service endpoint may belong to a "
            "different Moodle site from the one the student launched from."
        )
    if code == "nocriteriaset":
        return [no_criteria(c, course_id) for c in codes]
    if code in _NO_COURSE:
        message = (
            f"Moodle has no course with id {course_id} (mapped for {mapped}), or the "
            "web-service user cannot see it: correct the course mapping."
        )
    elif code in _NO_PERMISSION or error.exception_name == "required_capability_exception":
        message = (
            f"The Moodle web-service user may not read other users' completion in course "
            f"{course_id} (mapped for {mapped}): {code}: {error.ws_message}. Give it the "
            "capabilities report/completion:view and report/progress:view (and "
            "moodle/site:accessallgroups) there or site-wide, and check completion tracking "
            "is enabled in the course."
        )
    else:
        return [SourceError(f"{error.message} (course {course_id})", course_code=c) for c in codes]
    return [SourceConfigError(message, course_code=c) for c in codes]


def no_criteria(code: str, course_id: int) -> CourseUntrackable:
    """``nocriteriaset``: Moodle cannot say whether anyone completed the course."""
    return CourseUntrackable(
        f"{code}'s Moodle course has no completion criteria set: a Moodle teacher must set "
        f"them in Course completion settings (course id {course_id}: More > Course "
        "completion), or map the CPD course to an activity instead.",
        course_code=code,
    )


def tracking_off(code: str, course_id: int, cmid: int) -> CourseUntrackable:
    """A mapped activity with completion tracking off: Moodle leaves it out of the statuses."""
    return CourseUntrackable(
        f"{code}'s Moodle activity has completion tracking off: a Moodle teacher must turn it "
        f"on in the activity's settings (Completion conditions; course id {course_id}, "
        f"activity cmid {cmid}).",
        course_code=code,
    )


def http_problem(url: str, response: requests.Response) -> SourceError:
    """What a non-200, non-transient HTTP status from the REST server means for the admin."""
    status = response.status_code
    if 300 <= status < 400:
        return SourceConfigError(
            f"The Moodle web-service URL {url} redirects to {response.headers.get('Location')!r}: "
            "enter the final address (often https://) in the tool's Moodle settings."
        )
    if status in (401, 403):
        return SourceConfigError(
            f"Moodle answered HTTP {status} at {url}: enable web services and the REST "
            f"protocol ({_WS_ADMIN} > Manage protocols), and allow this server through any "
            "firewall in front of Moodle."
        )
    if status == 404:
        return SourceConfigError(
            f"There is no Moodle web-service server at {url} (HTTP 404): set the Moodle site "
            "address in the tool's settings."
        )
    return SourceConfigError(f"Moodle answered HTTP {status} at {url}.")
