"""The ``lti-tool`` command."""

from lti_tool.cli import admin, keys, mapping, platforms, privacy, server
from lti_tool.cli.main import main

__all__ = ["admin", "keys", "main", "mapping", "platforms", "privacy", "server"]
