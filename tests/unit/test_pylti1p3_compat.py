"""pylti1p3's private parts the tool relies on are named in one place and still there.

An upgrade of pylti1p3 that moves or renames one of them fails here, not in a launch.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pylti1p3.contrib.flask.message_launch import FlaskMessageLaunch
from pylti1p3.contrib.flask.redirect import FlaskRedirect
from pylti1p3.message_launch import MessageLaunch

import lti_tool
from lti_tool.lti import pylti1p3_compat as compat

PACKAGE = Path(lti_tool.__file__).parent
COMPAT_FILE = PACKAGE / "lti" / "pylti1p3_compat.py"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _pylti_names(tree: ast.Module) -> set[str]:
    """Local names bound to something imported from pylti1p3."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pylti1p3"):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                (alias.asname or alias.name).split(".")[0]
                for alias in node.names
                if alias.name.startswith("pylti1p3")
            )
    return names


def private_reaches(source: str, where: str) -> list[str]:
    """``Name._private`` where ``Name`` came from pylti1p3."""
    tree = ast.parse(source)
    pylti = _pylti_names(tree)
    return [
        f"{where}:{node.lineno} {node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in pylti
        and _is_private(node.attr)
    ]


def _self_attributes(tree: ast.AST) -> set[str]:
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and _is_private(node.attr)
    }


def _class_tree(cls: type) -> ast.ClassDef:
    tree = ast.parse(inspect.getsource(cls))
    found = tree.body[0]
    assert isinstance(found, ast.ClassDef)
    return found


def own_private_names(cls: type) -> set[str]:
    """Private names a class of ours defines or touches: methods, class attributes, self._x."""
    tree = _class_tree(cls)
    names = _self_attributes(tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {name for name in names if _is_private(name)}


def pylti_private_names(cls: type) -> set[str]:
    """Private names of the pylti1p3 classes ``cls`` inherits from."""
    names: set[str] = set()
    for base in cls.__mro__:
        if not base.__module__.startswith("pylti1p3"):
            continue
        names.update(name for name in vars(base) if _is_private(name))
        names.update(getattr(base, "__annotations__", {}))
        names |= _self_attributes(_class_tree(base))
    return {name for name in names if _is_private(name)}


def collisions(cls: type) -> set[str]:
    allowed = {entry.name for entry in compat.RELIED_ON}
    return (own_private_names(cls) & pylti_private_names(cls)) - allowed


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        dotted = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found.append((dotted.removesuffix(".__init__"), path))
    return found


def our_subclasses() -> list[type]:
    """Classes in lti_tool whose direct base is imported from pylti1p3."""
    classes = []
    for dotted, path in _modules():
        tree = ast.parse(path.read_text())
        pylti = _pylti_names(tree)
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id in pylti for base in node.bases
            ):
                classes.append(getattr(importlib.import_module(dotted), node.name))
    return classes


# -- the pin ---------------------------------------------------------------------------------


def test_the_installed_pylti1p3_is_the_pinned_one() -> None:
    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    pins = [d for d in pyproject["project"]["dependencies"] if d.startswith("pylti1p3")]
    assert len(pins) == 1 and "==" in pins[0], f"pylti1p3 must be pinned exactly: {pins}"
    pinned = pins[0].split("==", 1)[1].strip()
    assert pinned == compat.PINNED_VERSION, (
        "pyproject.toml pins another pylti1p3 than lti/pylti1p3_compat.py was checked against: "
        "check every entry there against the new version, then update PINNED_VERSION"
    )
    assert importlib.metadata.version("pylti1p3") == pinned


# -- every relied-on private name ------------------------------------------------------------


@pytest.mark.parametrize("entry", compat.RELIED_ON, ids=lambda e: f"{e.owner}.{e.name}")
def test_a_relied_on_private_name_exists_with_its_signature(entry: compat.PrivateName) -> None:
    module_name, class_name = entry.owner.split(":")
    owner = getattr(importlib.import_module(module_name), class_name)
    assert hasattr(owner, entry.name), f"pylti1p3 no longer has {entry.owner}.{entry.name}"
    member = getattr(owner, entry.name)
    assert tuple(inspect.signature(member).parameters) == entry.parameters, entry.why


class _Launch(MessageLaunch):  # type: ignore[type-arg]
    def _get_request_param(self, key: str) -> str:
        raise AssertionError("not asked")

    def validate(self) -> MessageLaunch:  # type: ignore[type-arg]
        raise AssertionError("pylti1p3 started its own validation")


def test_the_token_given_with_set_jwt_is_what_pylti1p3_reads() -> None:
    launch = _Launch(object(), object(), session_service=object(), cookie_service=object())  # type: ignore[arg-type]
    launch.set_auto_validation(enable=False)
    launch.set_jwt({"body": {"iss": "https://lms.example"}})  # type: ignore[typeddict-item]
    assert launch.get_iss() == "https://lms.example"
    assert launch.get_launch_data() == {"iss": "https://lms.example"}


def test_flask_redirect_sets_cookies_through_update_response() -> None:
    seen: list[Any] = []

    class Cookies:
        def update_response(self, response: Any) -> None:
            seen.append(response)

    response = FlaskRedirect("https://lms.example/auth", Cookies()).do_redirect()
    assert seen == [response]
    assert response.location == "https://lms.example/auth"


# -- nothing else reaches in -----------------------------------------------------------------


def test_no_module_reaches_into_a_pylti1p3_private_name() -> None:
    reaches = [
        reach
        for dotted, path in _modules()
        if path != COMPAT_FILE
        for reach in private_reaches(path.read_text(), dotted)
    ]
    assert not reaches, (
        "pylti1p3 private names used outside lti/pylti1p3_compat.py (use a public hook, or "
        f"name it there): {reaches}"
    )


def test_our_subclasses_touch_no_private_name_of_pylti1p3() -> None:
    classes = our_subclasses()
    assert {cls.__name__ for cls in classes} >= {
        "ToolMessageLaunch",
        "ToolOIDCLogin",
        "ToolCookieService",
        "ToolServiceConnector",
        "ToolConf",
    }
    found = {cls.__qualname__: sorted(collisions(cls)) for cls in classes}
    assert not any(found.values()), (
        "these subclasses use or shadow pylti1p3's private names (rename them, use a public "
        f"hook, or name them in lti/pylti1p3_compat.py): {found}"
    )


# -- the checks above can fail ---------------------------------------------------------------


class _Reaching(FlaskMessageLaunch):  # type: ignore[misc]
    _validated = True

    def peek(self) -> Any:
        return self._jwt

    def _get_request_param(self, key: str) -> str:
        return key


def test_the_checks_see_a_subclass_and_a_module_reaching_in() -> None:
    assert collisions(_Reaching) == {"_jwt", "_validated", "_get_request_param"}
    source = (
        "from pylti1p3.assignments_grades import AssignmentsGradesService as Ags\n"
        "url = Ags._add_url_path_ending('https://x/li', 'scores')\n"
    )
    assert private_reaches(source, "fake") == ["fake:2 Ags._add_url_path_ending"]
