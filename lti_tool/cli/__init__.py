"""The ``lti-tool`` command."""

from lti_tool.cli import keys, mapping, platforms, server
from lti_tool.cli.main import main

__all__ = ["keys", "main", "mapping", "platforms", "server"]
