"""Run untrusted student code in a sandbox: no network, hidden files, limits, its own user.

The kernel that runs a student's code is started through this file (:func:`kernelspec` points
Jupyter at ``python grader/sandbox.py kernel CONFIG CONNECTION_FILE``), inside bubblewrap
(``bwrap``, Debian package ``bubblewrap``):

* no network, its own process, IPC and host-name namespaces;
* an allow-list file system: the system's programs and libraries, the Python environment and
  the course package, read-only (:data:`SYSTEM_PATHS` and what the grader adds); no solutions,
  tests, gradebook, other submissions or other copies of the course; a private ``/tmp`` in memory;
* an allow-list environment (:data:`ALLOWED_ENVIRONMENT`): no variable of the grader's reaches it;
* the notebook's folder is a private *copy* without the notebook (which holds the hidden tests):
  what the code writes there (or links it plants) never reaches the files nbgrader writes;
* no capabilities, and a user id of its own (one per parallel slot, so a fork bomb exhausts
  only its own process limit), with limits on memory (``RLIMIT_AS``: an allocation past it
  raises ``MemoryError`` in the cell), processes and threads (``RLIMIT_NPROC``) and file size.

A kernel may instead be forked warm by its slot's zygote (:mod:`grader.zygote`, started by
:func:`zygote_command`), which sets it up with the same view, limits, user and environment.

The full sandbox needs root (to switch user ids); :func:`check` says what is possible here.
This file uses the standard library only: it starts every kernel, so it must start fast.

>>> limits = Limits(memory_bytes=8 * 2**30, processes=512, file_bytes=2**30)  # doctest: +SKIP
>>> kernelspec(Path("/tmp/w/sandbox.json"))["argv"][:2]                       # doctest: +SKIP
['/work/main/.venv/bin/python', '/work/main/grader/sandbox.py']
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import resource
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

SETUP_HINT = (
    "install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; `make setup` does it when "
    "run as root) and grade as root"
)


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Sizes in bytes.

    ``memory_bytes`` bounds each kernel process's address space (TensorFlow maps about 3 GiB
    before it allocates anything, so leave room); ``processes`` bounds the processes *and
    threads* of the slot's user; ``file_bytes`` bounds any one file it writes.
    """

    memory_bytes: int = 8 * 2**30
    processes: int = 1024
    file_bytes: int = 2**30
    tmp_bytes: int = 512 * 2**20


@dataclass
class KernelConfig:
    """What the kernel launcher needs, written by the grader as ``sandbox.json``."""

    uid: int
    runtime_dir: str
    visible: list[str] = field(default_factory=list)  # besides the system: the Python, the course package
    limits: Limits = field(default_factory=Limits)
    readable: dict[str, str] = field(default_factory=dict)  # real path -> path seen inside
    env: dict[str, str] = field(default_factory=dict)
    zygote: str = ""  # the slot's zygote (grader/zygote.py) socket: kernels fork from it, warm

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=1))
        return path

    @classmethod
    def read(cls, path: Path) -> KernelConfig:
        raw = json.loads(Path(path).read_text())
        raw["limits"] = Limits(**raw["limits"])
        return cls(**raw)


def check() -> str | None:
    """None when the full sandbox can run here, else what is missing, in words."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux (this is {sys.platform}); {SETUP_HINT}"
    if shutil.which("bwrap") is None:
        return f"bubblewrap (bwrap) is not installed: {SETUP_HINT}"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    if os.geteuid() != 0:
        return f"grading runs each submission as a user of its own, which needs root: {SETUP_HINT}"
    return None


# What every kernel sees of the system, read-only: programs, libraries, and the few files of /etc
# that the dynamic loader, time zones and fonts read. Nothing else of the machine is there.
SYSTEM_PATHS = (
    "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32",
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime",
    "/etc/fonts", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/mime.types",
)  # fmt: skip
# The environment variables a kernel keeps (locale, time zone, numerical libraries' settings);
# every other one of the grader's (tokens, database addresses, paths) stays out.
ALLOWED_ENVIRONMENT = (
    "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TF_CPP_MIN_LOG_LEVEL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS",
)  # fmt: skip
# What every process that runs a chapter's cells for the grader gets (kernels, sandboxed or not, and
# test processes): no progress bars, which nobody watches there (cvcourse.training.show_progress).
GRADING_ENVIRONMENT = {"CVCOURSE_PROGRESS": "0"}


REPO = Path(__file__).resolve().parents[1]
# Where a zygote sees what its kernels must not: the slot's work folder (its socket and every
# submission's folders), the grader's code, the read-only folders; each kernel detaches them.
STAGE_WORK, STAGE_CODE, STAGE_READABLE = (
    "/dev/shm/.cvg/work",
    "/dev/shm/.cvg/grader",
    "/dev/shm/.cvg/readable",
)


@functools.cache
def _course_files():
    """``cvcourse/manifest.py`` (the course's folders), loaded from its file: importing the
    ``cvcourse`` package would start TensorFlow."""
    spec = importlib.util.spec_from_file_location("_cvcourse_manifest", REPO / "cvcourse" / "manifest.py")
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def visible_paths(test_server: bool = False) -> list[str]:
    """What a kernel sees besides :data:`SYSTEM_PATHS`: its Python, the course package and its data;
    the grader's test server also sees its own two files (``grader/testrunner.py``), nothing else
    of the grader."""
    paths = [sys.prefix, sys.base_prefix, str(REPO / "cvcourse"), str(_course_files().REPOSITORY_DATA)]
    if test_server:
        paths += [str(REPO / "grader" / name) for name in ("__init__.py", "testrunner.py")]
    return paths


def keras_cache(sandboxed: bool) -> tuple[dict[str, str], dict[str, str]]:
    """({real path: path inside}, environment) that show Keras' cache (data sets, weights) read-only."""
    keras_home = _course_files().keras_home()
    if not keras_home.is_dir():
        return {}, {}
    if not sandboxed:
        return {}, {"KERAS_HOME": str(keras_home)}
    return {str(keras_home): "/tmp/.keras"}, {"KERAS_HOME": "/tmp/.keras"}


def allowed_environment(**extra: str) -> dict[str, str]:
    """The allowed variables of this process's environment and :data:`GRADING_ENVIRONMENT`, with
    ``extra`` on top."""
    allowed = {k: os.environ[k] for k in ALLOWED_ENVIRONMENT if k in os.environ}
    return {**allowed, **GRADING_ENVIRONMENT, **extra}


def _bwrap(*, tmp_size: int | None = None, visible=(), writable=None, readable=None) -> list[str]:
    """bwrap arguments: an empty root with only ``visible`` (read-only), fresh /dev, /proc and /tmp.

    Mounts in this order: a private /tmp (RAM, ``tmp_size`` bytes at most), the system paths and
    ``visible`` folders at their own place, read-only (a link such as /bin -> usr/bin stays a
    link), then ``writable`` and ``readable`` ({real path: path inside}), read-write and read-only.
    No network, its own process tree.
    """
    args = ["bwrap", "--dev", "/dev", "--proc", "/proc"]
    if tmp_size is not None:
        args += ["--size", str(tmp_size)]
    args += ["--perms", "1777", "--tmpfs", "/tmp"]
    shown = [Path(p) for p in (*SYSTEM_PATHS, *visible) if os.path.lexists(p)]
    targets = [*shown, *map(Path, (writable or {}).values()), *map(Path, (readable or {}).values())]
    # bwrap would create the folders leading to a mount point with mode 0700: the kernel's user
    # could not reach what is bound there
    parents = {a for t in targets for a in t.parents if a != Path("/") and a != Path("/tmp")}
    parents -= {a for a in parents if any(a.is_relative_to(p) for p in shown if p != a)}
    for parent in sorted(parents, key=lambda a: len(a.parts)):
        if parent not in shown:
            args += ["--perms", "0755", "--dir", str(parent)]
    for path in sorted(set(shown), key=lambda p: len(p.parts)):
        if path.is_symlink() and len(path.parts) == 2:  # /bin -> usr/bin
            args += ["--symlink", os.readlink(path), str(path)]
        else:
            args += ["--ro-bind", str(path.resolve()), str(path)]
    for real, seen in (writable or {}).items():
        args += ["--bind", str(real), str(seen)]
    for real, seen in (readable or {}).items():
        args += ["--ro-bind", str(real), str(seen)]
    return [*args, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]


def kill_user_processes(uid: int, timeout_seconds: float = 60) -> None:
    """SIGKILL every process of user ``uid``, a fork bomb's included, and wait until they are gone.

    Each parallel slot's kernels run as a user of their own, so after a submission this ends
    whatever it left behind. A child process becomes that user and calls ``kill(-1, SIGKILL)``:
    the kernel signals all of the user's processes in one pass that no fork can slip through,
    where killing them one by one loses to a fork bomb on a fast machine. A process that held
    gigabytes takes a while to give them back, hence the generous wait.

    >>> kill_user_processes(1_900_000)  # doctest: +SKIP
    """
    deadline = time.monotonic() + timeout_seconds
    while left := user_processes(uid):
        if time.monotonic() > deadline:
            shown = ", ".join(f"{p.name} ({_state(p)})" for p in left[:5])
            raise RuntimeError(f"processes of user {uid} outlive {timeout_seconds:.0f} s of SIGKILL: {shown}")
        child = os.fork()
        if child == 0:  # the child only changes user, signals and exits: nothing that takes a lock
            try:
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        time.sleep(0.1)  # the killed processes exit and leave /proc


def user_processes(uid: int) -> list[Path]:
    """The ``/proc`` folders of user ``uid``'s live processes (zombies not counted).

    >>> user_processes(1_900_000)  # doctest: +SKIP
    []
    """
    return [p for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid]


def _state(proc: Path) -> str:
    """A process's state letter and command name, from ``/proc/<pid>/stat``."""
    try:
        stat = (proc / "stat").read_text()
    except OSError:
        return "gone"
    return f"{stat.rsplit(')', 1)[1].split()[0]} {stat[stat.index('(') + 1 : stat.rindex(')')]}"


def _owner(proc: Path) -> int | None:
    """The user of a live process (None for one gone, or a zombie: dead, waiting to be reaped)."""
    try:
        if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return None
        return proc.stat().st_uid
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def kernelspec(config_path: Path, display_name: str = "Python 3 (sandboxed grading)") -> dict:
    """A Jupyter kernelspec that starts ipykernel inside the sandbox described by ``config_path``."""
    return {
        "argv": [
            sys.executable,
            str(Path(__file__).resolve()),
            "kernel",
            str(config_path),
            "{connection_file}",
        ],
        "display_name": display_name,
        "language": "python",
        "interrupt_mode": "message",  # signals from outside do not cross into the sandbox
        "env": {"TF_CPP_MIN_LOG_LEVEL": "3"},
    }


def give_to(path: Path, uid: int) -> None:
    """Make ``path`` (recursively, never following links) belong to ``uid``."""
    os.lchown(path, uid, uid)
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                os.lchown(os.path.join(root, name), uid, uid)


def confined(config: KernelConfig, command: list[str], cwd: str, writable: dict[str, str]) -> list[str]:
    """``command`` run by bwrap (allow-list view, no network) as ``config.uid`` with no capabilities.

    ``writable`` ({real path: path inside}) is bound read-write, the rest of what it sees read-only;
    it starts in ``cwd``.
    """
    inside = _bwrap(
        tmp_size=config.limits.tmp_bytes,
        visible=config.visible,
        writable=writable,
        readable=config.readable,
    )
    drop = [
        "setpriv",
        f"--reuid={config.uid}",
        f"--regid={config.uid}",
        "--clear-groups",
        "--bounding-set=-all",
        "--inh-caps=-all",
        "--no-new-privs",
    ]
    return [*inside, "--chdir", cwd, "--", *drop, *command]


def kernel_command(config: KernelConfig, connection_file: str, cwd: str, scratch: str) -> list[str]:
    """The command that runs ipykernel for ``connection_file`` in the sandbox.

    The kernel works in folder ``cwd``, which is ``scratch`` (a copy) seen at ``cwd``'s path.
    """
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
    return confined(config, kernel, cwd, {scratch: cwd, config.runtime_dir: config.runtime_dir})


def zygote_command(config: KernelConfig, work: Path, socket_path: Path) -> list[str]:
    """The command that starts a slot's zygote (grader/zygote.py) confined as kernels are, but as
    root with capabilities, to set up each kernel it forks; ``work`` (the slot's work folder, where
    ``config`` and the socket lie) it sees at :data:`STAGE_WORK`."""
    readable = {real: f"{STAGE_READABLE}/{i}" for i, real in enumerate(config.readable)}
    stages = [STAGE_WORK, STAGE_CODE, *readable.values()]
    inside = _bwrap(
        visible=config.visible,
        writable={str(work): STAGE_WORK},
        readable={str(REPO / "grader"): STAGE_CODE, **readable},
    )
    config_path = config.write(work / f"{Path(socket_path).stem}.json")
    zygote = [sys.executable, f"{STAGE_CODE}/zygote.py", staged(config_path, work), staged(socket_path, work)]
    zygote += stages
    return [*inside, "--cap-add", "ALL", "--chdir", "/", "--", *zygote]


def staged(path: str | Path, work: Path) -> str:
    """Where a zygote sees ``path``, a file or folder of the slot's work folder ``work``.

    >>> staged("/tmp/cvg-1/3/runtime", Path("/tmp/cvg-1"))
    '/dev/shm/.cvg/work/3/runtime'
    """
    return f"{STAGE_WORK}/{Path(path).relative_to(work)}"


def zygote_environment(config: KernelConfig) -> dict[str, str]:
    """A zygote's environment: its kernels' own, with matplotlib's backend the one ipykernel sets."""
    return {**_environment(config, "/tmp"), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def set_limits(limits: Limits) -> None:
    for which, value in (
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))


def _environment(config: KernelConfig, home: str) -> dict[str, str]:
    defaults = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": home,
        "TMPDIR": home,
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "XDG_CACHE_HOME": f"{home}/.cache",
    }
    return allowed_environment(**{**defaults, **config.env})


def launch_kernel(config_path: str, connection_file: str, extra: list[str]) -> None:
    """Entry point of the kernelspec: confine, limit, then become the kernel (``exec``)."""
    config = KernelConfig.read(Path(config_path))
    cwd = os.getcwd()
    scratch = Path(config.runtime_dir).parent / f"kernel-{os.getpid()}"
    shutil.copytree(cwd, scratch, symlinks=True)
    for notebook in scratch.rglob("*.ipynb"):  # the graded notebook holds the hidden tests
        notebook.unlink()
    for path in (scratch, config.runtime_dir, connection_file):
        give_to(Path(path), config.uid)
    if config.zygote:
        warm_kernel(config, connection_file, cwd, str(scratch), extra)  # returns if there is no zygote
    set_limits(config.limits)
    command = kernel_command(config, connection_file, cwd, str(scratch)) + extra
    os.umask(0o022)  # bwrap creates the mount points with it: the kernel's user must traverse them
    os.execvpe(command[0], command, _environment(config, "/tmp"))


def warm_kernel(config: KernelConfig, connection_file: str, cwd: str, scratch: str, extra: list[str]) -> None:
    """Have the slot's zygote fork the kernel; exit with the kernel's exit code, or return (to start a
    cold one) when the zygote does not answer. The kernel dies with this process (the zygote sees
    the socket close), as a cold kernel dies with its launcher."""
    import socket

    work = Path(config.zygote).parent
    binds = [
        [staged(scratch, work), cwd, False],
        [staged(config.runtime_dir, work), config.runtime_dir, False],
    ]
    binds += [[f"{STAGE_READABLE}/{i}", inside, True] for i, inside in enumerate(config.readable.values())]
    request = {
        "connection_file": connection_file,
        "cwd": cwd,
        "env": _environment(config, "/tmp"),
        "extra": extra,
        "binds": binds,
    }
    try:
        zygote = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        zygote.connect(config.zygote)
        socket.send_fds(zygote, [json.dumps(request).encode()], [0, 1, 2])
    except OSError:
        return
    reply = b""
    while chunk := zygote.recv(4096):
        reply += chunk
    try:
        code = json.loads(reply)["exit"]
    except (ValueError, KeyError):
        code = 1  # the zygote ended while its kernel ran
    sys.exit(code if isinstance(code, int) and 0 <= code < 256 else 1)


def launch_process(config_path: str, command: list[str]) -> None:
    """Run ``command`` confined as :func:`launch_kernel` does, working in ``config.runtime_dir``.

    The grader's test servers run so: they run only trusted code, but they read what kernels send.
    """
    config = KernelConfig.read(Path(config_path))
    give_to(Path(config.runtime_dir), config.uid)
    set_limits(config.limits)
    folder = config.runtime_dir
    os.umask(0o022)
    full = confined(config, command, folder, {folder: folder})
    os.execvpe(full[0], full, _environment(config, folder))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "kernel":
        launch_kernel(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) >= 5 and sys.argv[1] == "run" and sys.argv[3] == "--":
        launch_process(sys.argv[2], sys.argv[4:])
    else:
        sys.exit(
            "usage: sandbox.py kernel CONFIG.json CONNECTION_FILE [KERNEL ARGS] (Jupyter starts it)\n"
            "       sandbox.py run CONFIG.json -- COMMAND..."
        )
