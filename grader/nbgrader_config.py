"""nbgrader configuration of the course; the root-level nbgrader_config.py loads this file.

The folders (solutions/, course/, grader/submitted/, ...) are those of ``grader/paths.py``; set
``NBGRADER_DB_URL`` for another gradebook than grader/gradebook.db.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

repo = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(repo))
from grader import paths  # noqa: E402 (after the path it needs): the course's folders, in one place

course = paths.CoursePaths(repo)
c.CourseDirectory.course_id = "cnn-vision"
c.CourseDirectory.root = str(repo)
c.CourseDirectory.source_directory = paths.SOURCE
c.CourseDirectory.release_directory = paths.RELEASE
c.CourseDirectory.submitted_directory = paths.SUBMITTED
c.CourseDirectory.autograded_directory = paths.AUTOGRADED
c.CourseDirectory.feedback_directory = paths.FEEDBACK
c.CourseDirectory.db_url = os.environ.get("NBGRADER_DB_URL") or course.gradebook_url
c.Exchange.root = str(course.exchange)
# A student's fetch (the Assignments tab, `nbgrader fetch_assignment`) lands in assignments/, git-ignored;
# the tab then reads assignments/nbgrader_config.py, which loads this file again.
c.Exchange.assignment_dir = str(course.assignments)

# What a student sees where a solution was.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A cell that runs longer than this is interrupted and scores zero; grading goes on.
# The longest graded training cell of the course is budgeted at 180 s on a 2-core CPU.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True

# TensorFlow and its libraries may log to stderr, and nbgrader scores a test cell with
# stderr output as failed. cvcourse imports TensorFlow quietly; this drops what is left:
# absl/glog lines ("W0000 00:00:... file.cc:12] ..."), and TensorFlow/Keras warnings.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(^|\n)([IWEF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog"
    r"|.*(tensorflow|keras|absl)\S*:\d+: \w*Warning:)"
)

# Feedback pages show each test's visible part and its failure message, never the hidden tests.
from grader.feedback import feedback_preprocessors  # noqa: E402 (after the path it needs)
from grader.presentation import generate_preprocessors  # noqa: E402

c.GenerateFeedback.preprocessors = feedback_preprocessors()

# Cells tagged instructor-only (the answers of ch11's discussions) stay out of the student notebook;
# the student notebook opens on the course's kernel, with slides, and Run All goes past exercises.
c.GenerateAssignment.preprocessors = generate_preprocessors()
