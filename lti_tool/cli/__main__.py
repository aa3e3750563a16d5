"""``python -m lti_tool.cli`` — the same as the ``lti-tool`` command."""

from lti_tool.cli import main

main()
