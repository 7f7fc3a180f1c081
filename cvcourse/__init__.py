"""Helpers shared by every notebook of the course: data, plotting and student checks.

Import this package before TensorFlow: it quietens TensorFlow's start-up chatter on
stderr, which would otherwise clutter the notebooks (and nbgrader scores a test cell
that writes to stderr as failed).

>>> import cvcourse
>>> from cvcourse import data, plotting, checks
"""

from cvcourse.quiet import quiet_tensorflow

quiet_tensorflow()

__all__ = ["quiet_tensorflow"]
__version__ = "0.1.0"
