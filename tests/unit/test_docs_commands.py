"""Every `lti-tool …` command the README and docs/ name is a command an operator can run."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from lti_tool.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _named_commands() -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for doc in DOCS:
        for match in re.finditer(r"lti-tool((?: [a-z][a-z-]*){1,2})", doc.read_text()):
            words = tuple(match.group(1).split())
            if words[:2] == ("admin", "session"):  # the itsdangerous salt, not a command
                continue
            found.add(words)
    return found


@pytest.mark.parametrize("words", sorted(_named_commands()), ids=" ".join)
def test_a_documented_command_exists(words: tuple[str, ...]) -> None:
    command: click.Command = main
    ctx = click.Context(main)
    name = words[0]
    assert isinstance(command, click.Group)
    found = command.get_command(ctx, name)
    assert found is not None, f"the docs name `lti-tool {name}`, which does not exist"
    if isinstance(found, click.Group) and len(words) > 1:
        assert found.get_command(ctx, words[1]) is not None, " ".join(words)
