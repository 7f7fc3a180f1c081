"""Fixtures shared by the slow tiers."""

import pytest

from tests.solution_runs import SolutionRuns


@pytest.fixture(scope="session")
def solution_runs(tmp_path_factory) -> SolutionRuns:
    """Each chapter's solution notebook and mutant cases, executed once a session (tests/solution_runs.py)."""
    return SolutionRuns(tmp_path_factory)
