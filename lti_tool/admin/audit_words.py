"""Audit entries said in words: who the change was about and what changed, e.g. "Set B832
result for Sam Student: Pass 74/100, released". Entries of actions without their own words
list their fields in plain labels; the stored old/new values are never rewritten."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from lti_tool.errors import field_label
from lti_tool.rules.records import OUTCOME_NAMES

Values = Mapping[str, Any] | None


# What each action is called on a page (its code stays in the log, the API and the CSV).
ACTION_LABELS = {
    "admin_account.create": "Admin account created",
    "admin_account.deactivate": "Admin account deactivated",
    "admin_account.password": "Admin password changed",
    "completion.manual": "Completion recorded by staff",
    "completion_source.change": "Completion source changed",
    "deployment.accepted": "New deployment accepted",
    "deployment.activate": "Deployment activated",
    "deployment.deactivate": "Deployment deactivated",
    "deployment.held": "New deployment held for approval",
    "dynreg.created": "Platform registered itself",
    "dynreg.refused": "Platform registration refused",
    "keys.rotate": "Signing key rotated",
    "mapping.discover": "Course mappings discovered",
    "mapping.set": "Course mapping set",
    "module_start.cohort": "Cohort start date set",
    "module_start.student": "Student start date set",
    "privacy.erasure_approved": "Erasure carried out",
    "privacy.erasure_rejected": "Erasure request rejected",
    "privacy.erasure_requested": "Erasure requested",
    "privacy.export": "Personal data exported",
    "privacy.overview": "Personal data viewed",
    "privacy.retention_purge": "Old records deleted (retention)",
    "qualification.choose": "Qualification chosen",
    "registration.add": "Platform registered",
    "registration.endpoints": "Platform addresses changed",
    "registration.new_deployments": "New-deployment rule changed",
    "registration.rename": "Platform renamed",
    "result.release": "Result released",
    "result.save": "Result saved",
}


def action_label(action: str) -> str:
    """``result.save`` → ``Result saved``; an action without a label in words of its code."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    text = action.replace("_", " ").replace(".", ": ")
    return text[:1].upper() + text[1:]


def plain_values(values: Values) -> str:
    """Stored values for a person to read: ``Score: 55; Released: no``."""
    return "; ".join(f"{field_label(k)}: {_plain(v)}" for k, v in (values or {}).items())


def describe(
    action: str, subject: str | None, student: str | None, old: Values, new: Values
) -> str:
    """One sentence for one audit entry; ``student`` is the person it is about (or None)."""
    words = _WORDS.get(action)
    if words is not None and (new or action == "result.release"):
        return words(subject or "", student or "a student", old or {}, new or {})
    return _generic(action, subject, student, old or {}, new or {})


def _result(v: Mapping[str, Any]) -> str:
    if not v:
        return "no result"
    outcome = str(v.get("outcome"))
    text = (
        f"{OUTCOME_NAMES.get(outcome, outcome)} {_number(v.get('score'))}/{_number(v.get('max'))}"
    )
    return text + (", released" if v.get("released") else ", held")


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _date(value: Any) -> str:
    if not value:
        return "none"
    try:
        return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def _result_saved(code: str, who: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    if old:
        return f"Changed {code} result for {who} from {_result(old)} to {_result(new)}"
    return f"Set {code} result for {who}: {_result(new)}"


def _released(code: str, who: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    return f"Released {code} result for {who} to the gradebook"


def _completion(code: str, who: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    def state(v: Mapping[str, Any]) -> str:
        status = str(v.get("status", "")).replace("_", " ")
        if v.get("completed_at"):
            return f"{status} on {_date(v['completed_at'])}"
        return status

    text = f"Recorded {code} for {who} as {state(new)}"
    return text + (f" (was {state(old)})" if old else "")


def _cohort_start(code: str, who: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    text = f"Set the cohort's {code} start to {_date(new.get('start_date'))}"
    if old.get("start_date"):
        text += f" (was {_date(old['start_date'])})"
    return text + (" from the course's launch settings" if new.get("source") == "launch" else "")


def _student_start(code: str, who: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    attempt = new.get("attempt")
    text = f"Set {code} start for {who} to {_date(new.get('start_date'))}"
    return text + (f" (attempt {attempt})" if attempt else "")


def _qualification(code: str, who: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    text = f"This course now tracks {new.get('qualification')}"
    return text + (f" (was {old['qualification']})" if old.get("qualification") else "")


def _new_deployment(_: str, __: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    what = f"new deployment {new.get('deployment_id')} of {new.get('registration')}"
    if new.get("active"):
        return f"Accepted {what} on its first launch"
    return f"Held {what} for a tool administrator's approval"


def _switched(_: str, __: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    what = f"deployment {new.get('deployment_id')} of {new.get('registration')}"
    if new.get("active"):
        return f"{'Approved' if old.get('approval') == 'pending' else 'Activated'} {what}"
    if new.get("approval") == "switched_off":
        return f"Deactivated {what}; only a tool administrator can activate it again"
    return f"Deactivated {what}"


_POLICY_WORDS = {"accept": "allowed on their first launch", "hold": "held for approval"}


def _policy(_: str, __: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    def words(v: Mapping[str, Any]) -> str:
        value = str(v.get("new_deployments"))
        return _POLICY_WORDS.get(value, value)

    text = f"New deployments of {new.get('registration')} are now {words(new)}"
    return text + (f" (were {words(old)})" if old else "")


def _registered(_: str, __: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    deployments = ", ".join(str(d) for d in new.get("deployment_ids") or []) or "none yet"
    return (
        f"Registered the platform {new.get('registration')} ({new.get('kind')}): issuer "
        f"{new.get('issuer')}, client ID {new.get('client_id')}, deployments {deployments}"
    )


def _kids(value: Any, none: str) -> str:
    return ", ".join(str(kid) for kid in value or []) or none


def _rotated(_: str, __: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    added, before = _kids(new.get("active"), "a new key"), _kids(old.get("active"), "")
    pending = old.get("pending")
    dropped = f"; dropped the pending key {_kids(pending, '')}" if pending else ""
    if "withdrawn" in new:
        withdrawn = _kids(new["withdrawn"], "no other key")
        replaced = f"Replaced the signing key {before} at once with" if before else "Signing now:"
        return f"{replaced} {added}{dropped}; withdrew {withdrawn} from the key set"
    text = f"Added signing key {added}" + (f" to replace {before}" if before else "")
    if new.get("signs_from"):
        text += f"; it signs from {new['signs_from']}"
    if new.get("grace_days") is not None and before:
        text += f"; the key it replaces stays published {new['grace_days']} days after"
    return text + dropped


_WORDS: dict[str, Callable[[str, str, Mapping[str, Any], Mapping[str, Any]], str]] = {
    "result.save": _result_saved,
    "result.release": _released,
    "completion.manual": _completion,
    "module_start.cohort": _cohort_start,
    "module_start.student": _student_start,
    "qualification.choose": _qualification,
    "deployment.accepted": _new_deployment,
    "deployment.held": _new_deployment,
    "deployment.activate": _switched,
    "deployment.deactivate": _switched,
    "registration.new_deployments": _policy,
    "registration.add": _registered,
    "keys.rotate": _rotated,
}


def _generic(
    action: str, subject: str | None, student: str | None, old: Values, new: Values
) -> str:
    """``Changed: Status not started → completed; Completed on none → 01/02/2026``."""
    about = " ".join(p for p in (subject, f"for {student}" if student else None) if p)
    changes = []
    for key in list(dict.fromkeys([*(old or {}), *(new or {})])):
        before, after = (old or {}).get(key), (new or {}).get(key)
        if before != after:
            changes.append(f"{field_label(key)}: {_plain(before)} → {_plain(after)}")
    head = action.replace("_", " ").replace(".", ": ")
    return f"{head}{' ' + about if about else ''}" + (f" ({'; '.join(changes)})" if changes else "")


def _plain(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
