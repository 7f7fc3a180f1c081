"""Grade on a Dask cluster: each submission is a task that a worker grades exactly as a local slot does.

``python -m grader grade CHAPTER --scheduler tls://host:8786`` (or ``DASK_SCHEDULER_ADDRESS``)
sends each submission, as data, to the workers of a ``dask.distributed`` cluster; ``--scheduler
local:N`` starts a ``LocalCluster`` of N single-threaded workers on this machine. A worker holds
one grading slot of its machine (:mod:`grader.slot`: its own user ids, its own test server) for
its whole life, grades a submission with :func:`grader.slot.grade` and returns the results as
data; the instructor's process merges them (:mod:`grader.classroom`), so the gradebook has one
writer. Dask runs a task again on another worker when its worker dies or is cut off; the result
that comes back is merged once.

Before anything is graded, every worker's environment (Python, the locked package versions, the
course's code) is compared with the instructor's: a worker that differs is refused, by name, with
what differs; a worker that joins later with another environment stops the run the same way.

>>> pool = ClusterPool("local:2", sandbox.Limits(), sandboxed=True)          # doctest: +SKIP
>>> pool.submit(assignment, job).result().reason                            # doctest: +SKIP
''
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import platform
import subprocess
from concurrent.futures import Future
from importlib.metadata import PackageNotFoundError, version

import dask
from distributed import Client, LocalCluster, WorkerPlugin, get_worker

from grader import sandbox, slot
from grader.course import REPO

PLUGIN = "cvcourse-grading"
# A slot starts its sandboxed grading process with multiprocessing, which a daemonic process may
# not do: workers must run as plain processes (`dask worker` reads DASK_DISTRIBUTED__WORKER__DAEMON).
NOT_DAEMONIC = {"distributed.worker.daemon": False}
COURSE_CODE = ("grader/*.py", "cvcourse/**/*.py", "pyproject.toml", "requirements.lock")


class EnvironmentMismatch(RuntimeError):
    """A worker's Python, packages or course code differ from the instructor's: grading stops."""

    stops_the_run = True


@functools.cache
def fingerprint() -> dict:
    """This machine's grading environment: Python, the locked packages' versions, the course code.

    >>> sorted(fingerprint())
    ['commit', 'course', 'packages', 'python']
    """
    packages = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        name = line.partition("==")[0].strip()
        if name:
            try:
                packages[name] = version(name)
            except PackageNotFoundError:
                packages[name] = "not installed"
    digest = hashlib.sha256()
    for path in sorted({p for pattern in COURSE_CODE for p in REPO.glob(pattern) if p.is_file()}):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    return {
        "python": platform.python_version(),
        "packages": packages,
        "course": digest.hexdigest(),
        "commit": commit or "no git commit",
    }


def differences(here: dict, there: dict) -> list[str]:
    """What differs between the instructor's environment ``here`` and a worker's ``there``, in words.

    >>> differences({"python": "3.11.2"}, {"python": "3.11.9"})
    ['Python 3.11.9 (here 3.11.2)']
    """
    found = []
    if here.get("python") != there.get("python"):
        found.append(f"Python {there.get('python')} (here {here.get('python')})")
    theirs = there.get("packages", {})
    for name, mine in sorted(here.get("packages", {}).items()):
        if theirs.get(name, "not installed") != mine:
            found.append(f"{name} {theirs.get(name, 'not installed')} (here {mine})")
    if here.get("course") != there.get("course"):
        found.append(
            f"the course's code differs: commit {there.get('commit')} (here {here.get('commit')}, "
            "with any uncommitted change)"
        )
    return found


def refuse_if_different(reports: dict[str, dict], here: dict) -> None:
    """EnvironmentMismatch naming every worker of ``reports`` ({address: fingerprint}) that differs."""
    wrong = {worker: differences(here, there) for worker, there in reports.items()}
    wrong = {worker: found for worker, found in wrong.items() if found}
    if wrong:
        lines = [f"  {worker}: {'; '.join(found[:6])}" for worker, found in sorted(wrong.items())]
        raise EnvironmentMismatch(
            "refusing to grade: these workers' environment differs from this machine's (update the course "
            "and run `make setup` there, then restart them):\n" + "\n".join(lines)
        )


class GradingSlot(WorkerPlugin):
    """Held by every worker while it grades: one slot of its machine and a workplace for it."""

    def __init__(self, limits: sandbox.Limits, sandboxed: bool, warm: bool = True):
        self.limits, self.sandboxed, self.warm = limits, sandboxed, warm
        self.slot = self.place = None

    def setup(self, worker):
        if multiprocessing.current_process().daemon:
            raise RuntimeError(
                f"the Dask worker on {platform.node()} runs as a daemonic process, which cannot start "
                "the grading sandbox: start it with DASK_DISTRIBUTED__WORKER__DAEMON=False (README, "
                "Grading a large course)"
            )
        self.slot = slot.claim_slots(1, self.sandboxed)[0]
        self.place = slot.Workplace(self.limits, self.sandboxed, self.slot.test_uid, self.warm)

    def teardown(self, worker):
        if self.place is not None:
            self.place.close()
        if self.slot is not None:
            self.slot.release()


def grade_on_worker(assignment: slot.Assignment, job: slot.Job, expected: dict) -> slot.Graded:
    """A task: grade ``job`` with this worker's slot, after checking its environment is ``expected``."""
    found = differences(expected, fingerprint())
    if found:
        raise EnvironmentMismatch(f"worker on {platform.node()} refused: {'; '.join(found[:6])}")
    plugin = get_worker().plugins[PLUGIN]
    return slot.grade(assignment, job, plugin.place, plugin.slot)


def local_cluster(workers: int, security=None) -> LocalCluster:
    """``workers`` single-threaded grading workers on this machine, on 127.0.0.1 only (TLS with ``security``).

    Its nannies, in this process, start the workers as plain processes, as a slot needs; the
    setting stays, for the workers they start again after one dies.
    """
    dask.config.set(NOT_DAEMONIC)
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        protocol="tls://" if security else "tcp://",
        security=security,
    )


class ClusterPool:
    """Grading slots on the Dask cluster at ``scheduler`` (``local:N``: N workers started here)."""

    def __init__(
        self, scheduler: str, limits: sandbox.Limits, sandboxed: bool, security=None, warm: bool = True
    ):
        self._cluster = None
        if scheduler.startswith("local:"):
            workers = int(scheduler.partition(":")[2] or 0)
            if workers < 1:
                raise ValueError(
                    f"--scheduler local:N needs a number of workers N of 1 or more, not {scheduler!r}"
                )
            self._cluster = local_cluster(workers, security)
            address = self._cluster
        else:
            address = scheduler
        try:
            self.client = Client(address, security=security, timeout="60s")
            self.client.wait_for_workers(1, timeout=120)
            refuse_if_different(self.client.run(fingerprint), fingerprint())
            self.client.register_plugin(GradingSlot(limits, sandboxed, warm), name=PLUGIN)
        except BaseException:
            self.close()
            raise
        workers = len(self.client.scheduler_info()["workers"])
        self.description = f"{workers} Dask worker(s) of {self.client.scheduler.address}"
        self._executor = self.client.get_executor(pure=False)
        self._scattered = {}

    def submit(self, assignment: slot.Assignment, job: slot.Job) -> Future:
        if id(assignment) not in self._scattered:  # sent to every worker once, not with every task
            self._scattered = {id(assignment): self.client.scatter(assignment, broadcast=True)}
        return self._executor.submit(grade_on_worker, self._scattered[id(assignment)], job, fingerprint())

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            executor = getattr(self, "_executor", None)
            if executor is not None:
                executor.shutdown(wait=False)
            client.close()
        if self._cluster is not None:
            self._cluster.close()
