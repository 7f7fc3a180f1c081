"""Fixtures shared by the slow tiers."""

import os

import pytest

# Tests grade scratch courses, each with a gradebook of its own: never the instructor's PostgreSQL
# gradebook, which the course's configuration would otherwise read from the environment.
os.environ.pop("NBGRADER_DB_URL", None)

from tests.solution_runs import SolutionRuns, StudentRuns  # noqa: E402


@pytest.fixture(scope="session")
def solution_runs(tmp_path_factory) -> SolutionRuns:
    """Each chapter's solution notebook and mutant cases, executed once a session (tests/solution_runs.py)."""
    return SolutionRuns(tmp_path_factory)


@pytest.fixture(scope="session")
def student_runs(tmp_path_factory) -> StudentRuns:
    """Each chapter's student notebook, executed once a session as Run All does (tests/solution_runs.py)."""
    return StudentRuns(tmp_path_factory)
