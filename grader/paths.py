"""Where a course keeps what nbgrader and the grader read and write: the one model of its folders.

Every module, the nbgrader configuration and the tests take their paths from :class:`CoursePaths`,
so a folder is named in one place. Relative to a course root (the repository, a scratch course
in a test, or one submission's grading folder):

  solutions/             source: instructor notebooks with solutions and hidden tests
  course/                release: student notebooks, generated, committed
  grader/submitted/      submissions to grade                        (git-ignored)
  grader/autograded/     graded copies                               (git-ignored)
  grader/feedback/       HTML feedback per student                   (git-ignored)
  grader/exchange/       nbgrader's exchange (release, fetch, submit) (git-ignored)
  assignments/           where a student's fetch puts assignments     (git-ignored, but for
                         its nbgrader_config.py, which nbgrader's Assignments tab reads there)
  grader/gradebook.db    SQLite gradebook                            (git-ignored)
  grader/graded.json     what grading runs merged: a run resumes     (git-ignored)
  grader/grading_report.csv, grader/grades.csv   what ``grade`` and ``export`` write

This file uses the standard library only: nbgrader's configuration imports it.

>>> paths = CoursePaths(Path("/srv/course"))
>>> paths.submission("alice", "ch01_visual_cortex")
PosixPath('/srv/course/grader/submitted/alice/ch01_visual_cortex')
>>> paths.gradebook_url
'sqlite:////srv/course/grader/gradebook.db'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# nbgrader's CourseDirectory settings, relative to the course root
SOURCE, RELEASE = "solutions", "course"
SUBMITTED, AUTOGRADED, FEEDBACK = "grader/submitted", "grader/autograded", "grader/feedback"
ASSIGNMENTS = "assignments"


def _under_root(relative: str) -> property:
    return property(lambda self: self.root / relative, doc=f"``root/{relative}``")


@dataclass(frozen=True)
class CoursePaths:
    """The folders and files of the course rooted at ``root``."""

    root: Path

    source = _under_root(SOURCE)
    release = _under_root(RELEASE)
    submitted = _under_root(SUBMITTED)
    autograded = _under_root(AUTOGRADED)
    feedback = _under_root(FEEDBACK)
    exchange = _under_root("grader/exchange")
    assignments = _under_root(ASSIGNMENTS)  # nbgrader's Exchange.assignment_dir: fetched assignments
    gradebook = _under_root("grader/gradebook.db")
    ledger = _under_root("grader/graded.json")  # what each grading run merged (grader.classroom)
    report = _under_root("grader/grading_report.csv")
    grades = _under_root("grader/grades.csv")

    @property
    def gradebook_url(self) -> str:
        return f"sqlite:///{self.gradebook}"

    def submission(self, student: str, assignment: str) -> Path:
        """The folder of ``student``'s submission of ``assignment``."""
        return self.submitted / student / assignment

    def graded(self, student: str, assignment: str) -> Path:
        """The folder of ``student``'s graded copy of ``assignment``."""
        return self.autograded / student / assignment
