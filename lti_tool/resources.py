"""Where the top-level ``templates/`` and ``config/`` folders are at run time.

In a checkout they sit beside the package; after ``pip install .`` they are installed inside it
as ``lti_tool._templates`` and ``lti_tool._config`` (see ``pyproject.toml``).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder holding the ``templates`` or ``config`` resources."""
    checkout = _PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    installed = _PACKAGE_DIR / f"_{name}"
    if installed.is_dir():
        return installed
    raise FileNotFoundError(f"resource folder {name!r} not found beside or inside lti_tool")
