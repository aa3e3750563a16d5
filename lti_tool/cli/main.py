"""The ``lti-tool`` command group; the sub-commands live in the modules beside this one."""

from __future__ import annotations

from typing import Any

import click


class _ToolCommands(click.Group):
    """Database errors (no tables yet, server down, wrong password) and qualification files
    the tool cannot use reach the operator as one plain sentence naming the setting to check,
    not as a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import DBAPIError

        from lti_tool.rules.errors import RulesError

        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            from lti_tool.cli.common import explain_database_error

            raise click.ClickException(explain_database_error(exc)) from exc
        except RulesError as exc:
            from lti_tool.cli.common import rules_error_words

            raise click.ClickException(rules_error_words(exc)) from exc


@click.group(cls=_ToolCommands)
def main() -> None:
    """Clinical-leadership pathway tool (LTI 1.3)."""
