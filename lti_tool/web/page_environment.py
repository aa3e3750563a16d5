"""The Jinja environment of the tool's pages: Flask's, with a quicker ``a.b`` on plain dicts.

The pages read their data as ``module.code``, ``r.status`` … on dicts (the rules' checklist
as JSON). Jinja resolves ``a.b`` by trying the attribute first and the key after it, so every
such read raised and caught an ``AttributeError``: ~400 per student page, nearly half of its
rendering time (issue 14). For a plain ``dict`` the answer is known without trying: a name
that is not an attribute of ``dict`` can only be a key. The result is the same as Jinja's in
every case (a dict attribute such as ``items`` still wins over a key of that name; a missing
key is still undefined).
"""

from __future__ import annotations

from typing import Any

from flask.templating import Environment

_DICT_ATTRIBUTES = frozenset(dir(dict))


class PageEnvironment(Environment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)
