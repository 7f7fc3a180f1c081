"""Keep TensorFlow's and Keras' start-up messages off stderr.

nbgrader gives zero to a test cell with any stderr output, and a lecture should not
open with a screen of CUDA and oneDNN notices. TensorFlow reads its C++ log level from
the environment once, when it is first imported, and a few notices (no CUDA driver
found) are written straight to file descriptor 2 before any log level applies. So
:func:`quiet_tensorflow` sets the levels and then imports TensorFlow with descriptor 2
pointed at ``/dev/null``; importing :mod:`cvcourse` does that. Import errors still
reach the user: they are Python exceptions, not stderr text.
"""

import contextlib
import logging
import os
import sys
import warnings


@contextlib.contextmanager
def _stderr_descriptor_silenced():
    """Point file descriptor 2 at /dev/null for the duration of the block."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (some embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's loggers and import it quietly; settings the user chose are kept.

    Run ``TF_CPP_MIN_LOG_LEVEL=0 jupyter lab`` to see every message again.

    >>> quiet_tensorflow()
    >>> os.environ["TF_CPP_MIN_LOG_LEVEL"]
    '3'
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    for name in ("tensorflow", "absl", "keras", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\..*)?")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    if "tensorflow" not in sys.modules and os.environ["TF_CPP_MIN_LOG_LEVEL"] != "0":
        with _stderr_descriptor_silenced():
            import tensorflow  # noqa: F401  (imported here so that later imports are silent)
