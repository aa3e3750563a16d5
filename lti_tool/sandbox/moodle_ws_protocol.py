"""Moodle's REST protocol as the sandbox's web services fake speaks it (``moodle_ws.py``).

Parameters arrive as PHP reads form fields (``a[0][b]=…`` nests) and are validated as
Moodle's external API does; errors are HTTP 200 with ``{exception, errorcode, message}``;
answers are XML unless ``moodlewsrestformat=json`` — the bytes Moodle 4.5.6 sends (copied from
``fixtures/moodle-4.5.6/ws-*``).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Set as AbstractSet
from typing import Any

from flask import Response

MOODLE_EXCEPTION = "core\\exception\\moodle_exception"


class WsFault(Exception):
    """A Moodle error answer: ``{exception, errorcode, message}``."""

    def __init__(self, exception: str, errorcode: str, message: str) -> None:
        super().__init__(message)
        self.body = {"exception": exception, "errorcode": errorcode, "message": message}


INVALID_PARAMETER = (
    "core\\exception\\invalid_parameter_exception",
    "invalidparameter",
    "Invalid parameter value detected",
)
DML_READ = ("dml_read_exception", "dmlreadexception", "Error reading from database")


def nested_params(flat: dict[str, str]) -> dict[str, Any]:
    """PHP's reading of ``a[0][b]=…`` form fields into nested dicts."""
    params: dict[str, Any] = {}
    for key, value in flat.items():
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if match is None:
            raise WsFault(*INVALID_PARAMETER)
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = params
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise WsFault(*INVALID_PARAMETER)
        node[path[-1]] = value
    return params


def check_params(
    params: dict[str, Any],
    required: AbstractSet[str] = frozenset(),
    optional: AbstractSet[str] = frozenset(),
) -> None:
    """Moodle's parameter validation: all required, nothing unexpected, scalars where due."""
    if not required <= params.keys() or not params.keys() <= required | optional:
        raise WsFault(*INVALID_PARAMETER)
    for name in required:
        if isinstance(params[name], dict):
            raise WsFault(*INVALID_PARAMETER)


def parse_int(value: Any) -> int:
    """A whole number sent as text, else Moodle's invalid parameter fault."""
    if not isinstance(value, str) or re.fullmatch(r"-?\d+", value.strip()) is None:
        raise WsFault(*INVALID_PARAMETER)
    return int(value)


def answer(fmt: str, body: Any, error: bool = False) -> Response:
    """The REST server's answer in ``fmt`` (``json``, else XML); ``error`` for a WsFault body."""
    if fmt == "json":
        # PHP's json_encode escapes slashes; keep the bytes Moodle sends.
        text = json.dumps(body, separators=(",", ":")).replace("/", "\\/")
        return Response(text, mimetype="application/json")
    if error:
        text = (
            f'<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="{body["exception"]}">\n'
            f"<ERRORCODE>{body['errorcode']}</ERRORCODE>\n<MESSAGE>{html.escape(body['message'])}"
            "</MESSAGE>\n</EXCEPTION>\n"
        )
    else:
        text = f'<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n{_xml(body)}</RESPONSE>\n'
    response = Response(text, content_type="application/xml; charset=utf-8")
    response.headers["Content-Disposition"] = 'inline; filename="response.xml"'
    return response


def _xml(value: Any) -> str:
    """Moodle's REST XML (webservice_rest_server::xmlize_result)."""
    if value is None:
        return '<VALUE null="null"/>\n'
    if isinstance(value, dict):
        keys = "".join(f'<KEY name="{k}">{_xml(v)}</KEY>\n' for k, v in value.items())
        return f"<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(_xml(v) for v in value) + "</MULTIPLE>\n"
    text = str(int(value)) if isinstance(value, bool) else str(value)
    return f"<VALUE>{html.escape(text, quote=False)}</VALUE>\n"
