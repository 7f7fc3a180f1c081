"""The course's nbgrader configuration and the instructor's grading tools (``python -m grader``)."""
