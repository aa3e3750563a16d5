"""The pages' Jinja environment reads ``a.b`` exactly as Jinja does, only without raising."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from flask import Flask
from jinja2 import Environment, StrictUndefined, UndefinedError

from lti_tool.web.page_environment import PageEnvironment

TEMPLATES = [
    "{{ d.code }}",
    "{{ d.items is callable }}",  # a dict attribute wins over a key of the same name
    "{{ d.missing is defined }}",
    "{{ d.missing|default('none') }}",
    "{{ o.code }}",  # a dict subclass goes Jinja's own way
    "{{ d.__class__.__name__ }}",
]


@pytest.mark.parametrize("source", TEMPLATES)
def test_same_as_jinja(source: str) -> None:
    app = Flask(__name__)
    values = {
        "d": {"code": "B831", "items": "a key named items"},
        "o": OrderedDict(code="B832"),
    }
    ours = PageEnvironment(app).from_string(source).render(**values)
    jinja = Environment().from_string(source).render(**values)
    assert ours == jinja


def test_missing_key_is_undefined() -> None:
    env = PageEnvironment(Flask(__name__), undefined=StrictUndefined)
    with pytest.raises(UndefinedError):
        env.from_string("{{ d.missing }}").render(d={"code": "B831"})
