"""The repository stands on its own: no tracked file names a path of a developer's machine
(a home folder, a scratch folder, a work tree) or reaches outside the clone for files (a
shared folder of fixtures beside it). A user's clone has none of those; tests read what they
need from ``tests/fixtures``.

Deployment examples such as ``/etc/lti-tool/env`` or ``/srv/lti-tool`` name where the tool is
installed, not where a developer works, and are allowed.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".git", ".venv", "node_modules", "var", "__pycache__", ".mypy_cache"}
# An absolute path that starts a path (not a URL's path: no word, dot, colon or slash before
# it), into a folder that only exists on one machine.
_MACHINE_ROOTS = ("work", "root", "home", "Users", "tmp")
_MACHINE_PATH = re.compile(r"(?<![\w.:/~-])/(?:" + "|".join(_MACHINE_ROOTS) + r")/")
# Files kept outside the clone: the shared folder beside it, or its fixtures.
_OUTSIDE = re.compile(r"\.\./shared\b|\bshared/fixtures\b|[A-Za-z]:\\Users\\")


def machine_paths(text: str) -> list[str]:
    """The developer-machine paths named in ``text``, as found."""
    return [m.group(0) for m in _MACHINE_PATH.finditer(text)] + [
        m.group(0) for m in _OUTSIDE.finditer(text)
    ]


def tracked_files() -> list[Path]:
    """The repository's files: ``git ls-files``, or a walk of the tree outside a checkout."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        listed = b""
    if listed:
        return [ROOT / name for name in listed.decode().split("\0") if name]
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        found.extend(Path(folder) / name for name in files)
    return found


@pytest.mark.parametrize(
    ("sample", "found"),
    [
        # Built from parts so that this file names no such path itself.
        ('FIXTURES = Path("/' + "work/" + "shared/" + 'fixtures/moodle-4.5.6")', True),
        ("see /" + "root/notes.txt", True),
        ("cp /" + "home/alice/key.pem .", True),
        ("open('/" + "tmp/lti-debug.log')", True),
        ("/" + "Users/bob/src/tool", True),
        ('Path(__file__).parent / "../' + 'shared/LTI-NOTES.md"', True),
        ("copied from " + "shared/" + "fixtures/moodle", True),
        ("C:" + "\\Users\\carol\\tool", True),
        ("https://moodle.example.org/home/index.php", False),
        ("https://lms.example/" + "work/123", False),
        ("/etc/lti-tool/env; /srv/lti-tool/.venv/bin/lti-tool purge", False),
        ("tests/fixtures/moodle-4.5.6/ws-get_site_info.json", False),
        ("tmp_path / 'home' / 'x'", False),
    ],
)
def test_the_check_tells_machine_paths_apart(sample: str, found: bool) -> None:
    assert bool(machine_paths(sample)) is found


def test_no_tracked_file_names_a_developer_machine_path() -> None:
    files = tracked_files()
    assert len(files) > 50, "the repository's files were not found"
    offenders = []
    for path in files:
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for line_number, line in enumerate(text.splitlines(), start=1):
            if hits := machine_paths(line):
                offenders.append(f"{path.relative_to(ROOT)}:{line_number}: {', '.join(hits)}")
    assert not offenders, "paths of a developer's machine:\n" + "\n".join(offenders[:50])
