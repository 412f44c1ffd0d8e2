"""Every `# nosec` in course/ says which bandit test it silences and why, and bandit (as
.ci/run runs it) finds nothing and warns about nothing: a bare `# nosec`, a reason bandit
reads as test names, or one on a line whose other calls bandit then reports as "no failed
test" all print warnings that a reader would learn to skip."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parent.parent / "course"
# `# nosec B704  # why`: bandit reads test ids up to the next `#`, so the reason follows one.
EXPLAINED = re.compile(r"# nosec B\d{3}(?:, ?B\d{3})*  # \S.*$")


def test_each_nosec_names_its_test_and_a_reason():
    found = [(path, line) for path in COURSE.rglob("*.py")
             for line in path.read_text().splitlines() if "nosec" in line]
    assert found
    for path, line in found:
        assert EXPLAINED.search(line), f"{path.relative_to(COURSE)}: {line.strip()}"


def test_bandit_finds_nothing_and_warns_of_nothing():
    pytest.importorskip("bandit")
    run = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", str(COURSE),
                          "--severity-level", "medium"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout
    assert "WARNING" not in run.stderr, run.stderr
