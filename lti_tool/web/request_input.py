"""What a request sends, checked before any view or the database sees it: JSON bodies (an
object, not nested past reason, no NUL characters, no lone surrogates) and form, query and path
fields (the same characters: PostgreSQL refuses them in text, and no person types one)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from lti_tool.errors import ToolError

MAX_DEPTH = 20
NUL = "\x00"
# The largest id a path may name: the database's integer keys stop here (PostgreSQL ``integer``);
# a larger one is an OverflowError (SQLite) or NumericValueOutOfRange (PostgreSQL) if queried.
MAX_PATH_ID = 2**31 - 1
_View = TypeVar("_View", bound=Callable[..., Any])


class UnreadableInput(ToolError):
    status = 422
    title = "Please check what was entered"


def json_object(
    hint: str = "Send a JSON object with Content-Type: application/json.",
) -> dict[str, Any]:
    """The request's JSON body as an object. Refused (422, with ``hint`` saying what to send):
    no JSON content type, JSON that does not parse or nests deeper than ``MAX_DEPTH``, a list
    or a single value instead of an object, a NUL character anywhere."""
    if not request.is_json:
        raise UnreadableInput("bad_json", "Send a JSON object with Content-Type: application/json.")
    try:
        body = json.loads(request.get_data(cache=True))
    except RecursionError:  # the standard parser recurses per level of nesting
        raise UnreadableInput("too_deep", _too_deep()) from None
    except ValueError:
        raise UnreadableInput("bad_json", "The body is not valid JSON. " + hint) from None
    if not isinstance(body, dict):
        raise UnreadableInput("bad_body", hint)
    check_value(body)
    return body


def check_value(value: Any) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` and NUL characters in any key or string.
    Walks without recursion, so no input can exhaust the stack."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            refuse_nul(item)
            refuse_lone_surrogate(item)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise UnreadableInput("too_deep", _too_deep())
        if isinstance(item, dict):
            for key, child in item.items():
                refuse_nul(str(key))
                refuse_lone_surrogate(str(key))
                pending.append((child, depth + 1))
        else:
            pending.extend((child, depth + 1) for child in item)


def refuse_nul(text: str, field: str | None = None) -> None:
    if NUL in text:
        where = f"{field} contains" if field else "The request contains"
        raise UnreadableInput(
            "nul_character",
            f"{where} a NUL character (\\0), which cannot be stored. Remove it (it often comes "
            "from copying out of another program) and try again.",
        )


def refuse_lone_surrogate(text: str, field: str | None = None) -> None:
    """Refuse text that has no UTF-8 form: JSON can spell half of a surrogate pair
    (``"\\ud800"``), which no keyboard types and PostgreSQL cannot store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        where = f"{field} contains" if field else "The request contains"
        raise UnreadableInput(
            "bad_character",
            f"{where} a broken character (half of an emoji or other symbol), which cannot be "
            "stored. Type the text again and resend it.",
        ) from None


def _too_deep() -> str:
    return f"The JSON body is nested more than {MAX_DEPTH} levels deep; send a flat object."


def limit_body(max_bytes: int) -> Callable[[_View], _View]:
    """Give a view a smaller request body limit than the app's (413 above it), applied before
    anything reads the body."""

    def mark(view: _View) -> _View:
        view.max_body_bytes = max_bytes  # type: ignore[attr-defined]
        return view

    return mark


class LimitedRequest(Request):
    """A request whose body limit is its view's ``limit_body`` when it has one. Found from the
    URL here rather than in a ``before_request`` hook: the session interface reads the form (a
    launch token) before Flask matches the URL and before any hook runs."""

    _view_limit_looked_up = False

    @property
    def max_content_length(self) -> int | None:
        if not self._view_limit_looked_up and self._max_content_length is None and current_app:
            self._view_limit_looked_up = True
            self._max_content_length = _view_body_limit(self)
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def _view_body_limit(req: Request) -> int | None:
    endpoint = req.url_rule.endpoint if req.url_rule is not None else None
    if endpoint is None:
        adapter = current_app.create_url_adapter(req)
        try:
            endpoint = adapter.match(return_rule=True)[0].endpoint if adapter else None
        except HTTPException:  # no such page, or the method is not allowed: the app's limit
            return None
    limit = getattr(current_app.view_functions.get(endpoint or ""), "max_body_bytes", None)
    return int(limit) if limit is not None else None


def query_number(value: str) -> int:
    """``type=`` for a number in the query string (an id, a page, an offset): a whole number
    from 0 to ``MAX_PATH_ID``, in ASCII digits. Anything else raises ValueError, which
    werkzeug's ``args.get(..., type=query_number)`` turns into the default: a page number
    past any page, or ``²``, reads as if it were not there instead of reaching the database."""
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_PATH_ID:
        raise ValueError(value)
    return int(value)


class PathIdConverter(IntegerConverter):
    """``<int:…>`` path parts: an id past ``MAX_PATH_ID`` matches no page (404)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_PATH_ID)
        super().__init__(map, *args, **kwargs)


def _fields() -> Iterable[tuple[str, str]]:
    yield from request.args.items(multi=True)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            yield name, value
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        yield from request.form.items(multi=True)


def init_app(app: Flask) -> None:
    app.request_class = LimitedRequest
    # Before the blueprints add their rules: each rule takes its converter when it is added.
    app.url_map.converters["int"] = PathIdConverter

    @app.before_request
    def _refuse_nul_in_fields() -> None:
        for name, value in _fields():
            refuse_nul(name)
            refuse_nul(value, name)
            refuse_lone_surrogate(name)
            refuse_lone_surrogate(value, name)
