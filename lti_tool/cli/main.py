"""The ``lti-tool`` command group; the sub-commands live in the modules beside this one."""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Clinical-leadership pathway tool (LTI 1.3)."""
