"""Support code for ``scripts/bench_launch.py`` (a benchmark, not part of the tool)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Import lti_tool from this checkout whatever the working directory (an editable install whose
# finder went stale can otherwise turn ``lti_tool`` into a namespace package).
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))
