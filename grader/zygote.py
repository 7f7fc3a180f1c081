"""Warm kernels: a slot's *zygote* imports TensorFlow once and forks each submission's kernel.

A cold kernel spends most of a short chapter's grading importing TensorFlow (about 9 s here).
The zygote does that once per slot, inside the sandbox (:func:`grader.sandbox.zygote_command`:
the kernels' allow-list view, no network), and never runs student code. It runs as root (within
its namespaces) so that each kernel it forks can be set up as a cold kernel is, then locked down:

1. a fork that enters new mount, IPC, PID, network and host-name namespaces, mounts a fresh
   ``/tmp`` (and ``/dev/shm``), binds the kernel's folders there and detaches every staging
   mount (the zygote's socket, the slot's work folders, this file);
2. a fork that is process 1 of the new PID namespace, with a fresh ``/proc``; when it ends,
   every process of the namespace ends;
3. the kernel: the limits, the slot's kernel user with no capabilities and no way to gain any,
   the launcher's standard streams, then ipykernel (``IPKernelApp``) on the connection file.

The zygote's memory is shared copy-on-write, so nothing a kernel changes reaches the zygote or
the next kernel; its files, processes, IPC objects and sockets go with its namespaces, and the
slot kills the kernel user's processes after each submission, as it does for cold kernels.
Requests come only from the kernel launcher (``sandbox.py kernel``) over a Unix socket that a
kernel cannot see; the launcher passes its standard streams and waits for the kernel's exit code.

>>> # inside the zygote's sandbox, as its command                      # doctest: +SKIP
>>> serve(KernelConfig.read(Path(f"{STAGE_WORK}/zygote-0.json")), f"{STAGE_WORK}/zygote-0.sock", stages)
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import socket
import struct
import sys
import traceback
from pathlib import Path

import sandbox  # this file runs as a script beside it (``python STAGE_CODE/zygote.py``)

# What a kernel of this course imports (the kernel itself, then the chapters' libraries): done
# once here. Nothing here may start TensorFlow's runtime or load a matplotlib backend: a kernel
# does both itself, as a cold one would.
PRELOAD = ("ipykernel.kernelapp", "numpy", "scipy.signal", "scipy.ndimage", "tensorflow", "keras",
           "matplotlib.pyplot", "skimage.filters", "sklearn.metrics", "cvcourse.checks", "cvcourse.data",
           "cvcourse.plotting", "cvcourse.training", "cvcourse.scenes")  # fmt: skip

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
LINUX_CAPABILITY_VERSION_3 = 0x20080522
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source: str, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    _check(_libc.mount(encode(source), encode(target), encode(kind), flags, encode(data)), f"mount {target}")


def _bind(real: str, seen: str, read_only: bool) -> None:
    """Bind ``real`` at ``seen`` (made, with its parents, on the fresh /tmp), read-only if asked."""
    if not Path(seen).is_relative_to("/tmp"):
        raise ValueError(f"a warm kernel's folders must lie under /tmp: {seen}")
    if not os.path.exists(seen):
        os.makedirs(seen, mode=0o755)
    _mount(real, seen, None, MS_BIND | MS_REC)
    if read_only:
        _mount("none", seen, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _die_with_parent() -> None:
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG")
    if os.getppid() == 1:  # the parent was gone before the call
        os._exit(1)


def _loopback_up() -> None:
    """Bring up ``lo`` in the new network namespace, as bwrap's ``--unshare-net`` does."""
    import fcntl

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(probe, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def _drop_privileges(uid: int) -> None:
    """Become ``uid`` with no capabilities, no groups, and no way to gain privileges (setpriv's
    ``--clear-groups --bounding-set=-all --inh-caps=-all --no-new-privs``)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "PR_CAPBSET_DROP")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "PR_CAP_AMBIENT")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    os.setresuid(uid, uid, uid)
    header = struct.pack("Ii", LINUX_CAPABILITY_VERSION_3, 0)
    data = ctypes.create_string_buffer(24)  # effective, permitted, inheritable: all empty
    _check(_libc.capset(ctypes.c_char_p(header), data), "capset")


def _isolate(config: sandbox.KernelConfig, binds: list[tuple[str, str, bool]], stages: list[str]) -> None:
    """In the first fork: new namespaces, a fresh /tmp and /dev/shm, the binds, the stages gone."""
    flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS
    _check(_libc.unshare(flags), "unshare")
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _check(_libc.umount2(b"/tmp", MNT_DETACH), "umount /tmp")  # the zygote's
    tmp = f"size={config.limits.tmp_bytes},mode=1777"
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmp)
    for real, seen, read_only in binds:
        _bind(real, seen, read_only)
    for stage in stages:  # they lie in /dev/shm, which is then replaced: not a trace is left
        _check(_libc.umount2(stage.encode(), MNT_DETACH), f"umount {stage}")
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    _loopback_up()


def _fresh_proc() -> None:
    """In process 1 of the new PID namespace: its own /proc, with what bwrap makes read-only so."""
    _check(_libc.umount2(b"/proc", MNT_DETACH), "umount /proc")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in ("sys", "sysrq-trigger", "irq", "bus"):
        if os.path.exists(f"/proc/{name}"):
            _mount(f"/proc/{name}", f"/proc/{name}", None, MS_BIND | MS_REC)
            _mount("none", f"/proc/{name}", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _kernel(config: sandbox.KernelConfig, request: dict) -> None:
    """In the third fork: lock down, then run ipykernel on the request's connection file."""
    sandbox.set_limits(config.limits)
    _drop_privileges(config.uid)
    os.umask(0o022)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update({**request["env"], **request["imported_env"], "PWD": request["cwd"]})
    sys.argv = [sys.modules["ipykernel_launcher"].__file__, "-f", request["connection_file"]]
    sys.argv += request["extra"]
    sys.path[:] = request["path"]
    for name in ("sandbox", "ipykernel_launcher"):
        sys.modules.pop(name, None)
    import numpy

    numpy.random.seed()  # the zygote's draw is every kernel's otherwise (Python's random reseeds itself)
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance()


def _run_kernel(config: sandbox.KernelConfig, request: dict) -> None:
    """The kernel's process: :func:`_kernel`, then exit with its code; never returns."""
    code = 1
    try:
        _kernel(config, request)
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    except BaseException:  # noqa: BLE001 - on the kernel's stderr: the grading log
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _start(config: sandbox.KernelConfig, request: dict, streams: list[int], stages: list[str]) -> None:
    """The forked process that becomes the kernel's namespaces; never returns."""
    code = 1
    try:
        _die_with_parent()
        for target, stream in enumerate(streams):
            os.dup2(stream, target)
        for stream in streams:
            os.close(stream)
        binds = [tuple(bind) for bind in request["binds"]]
        _isolate(config, binds, stages)
        init = os.fork()
        if init == 0:  # process 1 of the new PID namespace
            _die_with_parent()
            _fresh_proc()
            kernel = os.fork()
            if kernel == 0:
                _run_kernel(config, request)
            while True:  # reap the orphans; end (and so every process here) with the kernel
                pid, status = os.wait()
                if pid == kernel:
                    os._exit(os.waitstatus_to_exitcode(status) % 256)
        _, status = os.waitpid(init, 0)
        code = os.waitstatus_to_exitcode(status) % 256
    except BaseException as error:  # noqa: BLE001 - said on the kernel's stderr: the grading log
        print(f"the warm kernel could not start: {error!r}", file=sys.stderr, flush=True)
    finally:
        os._exit(code)


def serve(config: sandbox.KernelConfig, socket_path: str, stages: list[str]) -> None:
    """Import :data:`PRELOAD`, then fork a kernel for each request on ``socket_path`` until killed."""
    import importlib

    before = dict(os.environ)
    for module in PRELOAD:
        importlib.import_module(module)
    # what the imports set (TensorFlow sets several): a cold kernel's environment has it too
    imported_env = {k: v for k, v in os.environ.items() if before.get(k) != v and k != "MPLBACKEND"}
    importlib.import_module("ipykernel_launcher")  # its path is the kernel's sys.argv[0]
    path = sys.path[1:]  # a cold kernel's: without this file's folder
    os.umask(0o022)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path + ".new")
    os.chmod(socket_path + ".new", 0o600)
    listener.listen(8)
    os.rename(socket_path + ".new", socket_path)  # the launcher waits for this name: ready
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    kernels: dict[int, tuple[socket.socket, int, int]] = {}  # file number -> (connection, pid, pidfd)
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                connection, _ = listener.accept()
                try:
                    message, streams, _, _ = socket.recv_fds(connection, 2**16, 3)
                    request = {**json.loads(message), "path": path, "imported_env": imported_env}
                except (OSError, ValueError) as error:  # the launcher went away: no kernel
                    print(f"a kernel request could not be read: {error!r}", file=sys.stderr, flush=True)
                    connection.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    for fd in {listener.fileno(), selector.fileno(), connection.fileno(), *kernels}:
                        os.close(fd)
                    _start(config, request, streams, stages)
                for stream in streams:
                    os.close(stream)
                pidfd = os.pidfd_open(pid)
                kernels[connection.fileno()] = kernels[pidfd] = (connection, pid, pidfd)
                selector.register(connection, selectors.EVENT_READ)
                selector.register(pidfd, selectors.EVENT_READ)
                continue
            if key.fd not in kernels:  # its other end was handled in this round
                continue
            connection, pid, pidfd = kernels[key.fd]
            if key.fd == connection.fileno():  # the launcher hung up (killed): so does its kernel
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            try:
                connection.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
            except OSError:
                pass
            for fd in (connection.fileno(), pidfd):
                selector.unregister(fd)
                del kernels[fd]
            connection.close()
            os.close(pidfd)


if __name__ == "__main__":
    serve(sandbox.KernelConfig.read(Path(sys.argv[1])), sys.argv[2], sys.argv[3:])
