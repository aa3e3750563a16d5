"""Whether a CPD course mapping fits its Moodle or Canvas source's mode, in words for the
admin who sets it.

A source in course mode reads each CPD course from a whole LMS course; one in activity mode
from one activity (Canvas module) of a course. The refresh reads no mapping that does not fit
(``lms.source.check_mode``): a course-mode mapping naming an activity too is not read as the
whole course, since several CPD courses mapped to activities of one course would then all
read as that course. So the mapping page refuses such a mapping, and a search of the kind the
mode does not read, and marks a stored one that does not fit (left from the other mode) as not
read; the courses it names read as unknown (``completion.unmapped``).
"""

from __future__ import annotations

LMS_NAMES = {"moodle": "Moodle", "canvas": "Canvas"}  # the sources read by a mapping
PART = {"moodle": "activity", "canvas": "module"}  # what activity mode reads, in its LMS's word
PARTS = {"activity": "activities", "module": "modules"}
WITH_ARTICLE = {"activity": "an activity", "module": "a module"}
WHOLE_COURSES = "one LMS course per CPD course"  # the source page's options, as it says them
ONE_ACTIVITY = "one activity (module) per CPD course"


def fits(kind: str | None, mode: str | None, activity_id: str | None) -> bool:
    """Whether a source of ``kind`` in ``mode`` reads a mapping with (or without) an
    activity; any mapping fits a source that is not Moodle or Canvas."""
    if kind not in LMS_NAMES:
        return True
    return bool((activity_id or "").strip()) == (mode == "activity")


def refusal(kind: str | None, mode: str | None, code: str, activity_id: str | None) -> str | None:
    """Why the mapping page refuses to link ``code`` so, or None when it fits."""
    if fits(kind, mode, activity_id):
        return None
    lms, part = LMS_NAMES[kind or ""], PART[kind or ""]
    if mode == "activity":
        return (
            f"This {lms} source reads one {part} per CPD course, so {code} needs the {part}'s id "
            f"as well as the course's: add it, or first set the completion source to "
            f"{WHOLE_COURSES}."
        )
    return (
        f"This {lms} source reads whole {lms} courses, one per CPD course, so {code} cannot be "
        f"linked to {WITH_ARTICLE[part]}: leave the {part} id empty, or first set the "
        f"completion source to {ONE_ACTIVITY}."
    )


def not_read(kind: str | None, mode: str | None, activity_id: str | None) -> str | None:
    """What the mapping page says of a stored mapping the source does not read, or None."""
    if fits(kind, mode, activity_id):
        return None
    lms, part = LMS_NAMES[kind or ""], PART[kind or ""]
    if mode == "activity":
        return f"Not read: this source reads {lms} {PARTS[part]}, and no {part} is given."
    return f"Not read: this source reads whole {lms} courses, not {PARTS[part]}."


def search_refusal(kind: str | None, mode: str | None, activities: bool) -> str | None:
    """Why a search for courses (or for the activities of one course) would find mappings
    the source does not read, or None."""
    if kind not in LMS_NAMES or activities == (mode == "activity"):
        return None
    lms, part = LMS_NAMES[kind or ""], PART[kind or ""]
    if mode == "activity":
        return (
            f"This {lms} source reads one {part} per CPD course: look for the {PARTS[part]} of one "
            f"course, or first set the completion source to {WHOLE_COURSES}."
        )
    return (
        f"This {lms} source reads whole {lms} courses, one per CPD course: look for courses, "
        f"or first set the completion source to {ONE_ACTIVITY}."
    )


def stray_part(code: str, kind: str | None) -> str:
    """What staff are told of a course a course-mode source does not read because its
    mapping names an activity."""
    lms, part = LMS_NAMES.get(kind or "", "LMS"), PART.get(kind or "", "activity")
    return (
        f"{code} is linked to a {lms} {part}, but the tool reads whole {lms} courses for this "
        f"platform, so it cannot read it: the administrator who set the tool up for {lms} must "
        f"take the {part} off its line on the tool's CPD course mapping page, or set the "
        f"completion source to {ONE_ACTIVITY}."
    )
