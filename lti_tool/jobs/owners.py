"""Which process's in-process queue holds a job, and whether that process has ended.

The thread queue (``queue.py`` ``ThreadQueue``) loses its jobs with its process, but several
processes may each run one on the same database (``lti-tool serve --workers N`` without
Redis, gunicorn restarting a worker, a command line beside the server), so a job this
process's queue does not know is not thereby lost. Each process that queues a job on its
threads names itself with a random owner name and holds an exclusive ``flock`` on the file
``<owner>.lock`` in the tool's instance folder for as long as it lives: the kernel lets the
lock go when the process ends, however it ends (a crash, a kill, a restart), and at no other
time (the file is never closed by the tool). A job records its owner (``grading``:
``sync_jobs.queue_owner``), so another process can tell, for certain, that the owner has
ended: its file is there and nobody holds its lock. A file that is not there (another
machine's process, another instance folder, a name from before owners were recorded) proves
nothing: such a job is left to the maintenance sweep, as before.

A file is made under a temporary name, locked, then renamed, so nobody sees an owner's file
unlocked while the owner lives. It names the machine it was made on: a lock taken on one
machine may not be seen from another sharing the folder (NFS mounted ``nolock``, some FUSE
or SMB shares), so another machine's owner is never judged ended from here (its sync would
be taken back while it still sends) and its file never removed; the maintenance sweep
recovers its jobs by their rows, as before. Standard library only; on a system without
``fcntl`` no owner is named and nothing is ever judged ended.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or macOS
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("lti_tool.jobs")
SUFFIX = ".lock"
_MACHINE_BYTES = 1024  # read of an owner file: far more than any host name


class QueueOwner:
    """This process's owner name, its lock held until the process ends (``name`` None when
    no lock could be made: the folder is not writable, or the system has no ``flock``)."""

    def __init__(self, folder: Path) -> None:
        self.pid = os.getpid()
        self.name: str | None = None
        self._fd: int | None = None
        if fcntl is None:
            return
        name = uuid.uuid4().hex
        temporary = folder / f"{name}.new"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            log.warning(
                "no owner file for the in-process job queue",
                extra={"fields": {"folder": str(folder), "error": type(exc).__name__}},
            )
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, _machine().encode("utf-8", "replace"))
            os.rename(temporary, folder / f"{name}{SUFFIX}")
        except OSError:
            os.close(fd)
            temporary.unlink(missing_ok=True)
            return
        self.name, self._fd = name, fd

    def release(self) -> None:
        """Let the lock go (the process is ending: its queue runs nothing any more)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def has_ended(folder: Path, owner: str) -> bool:
    """True only when ``owner``'s file is in ``folder``, was made on this machine and nobody
    holds its lock: the process that made it has ended. False when it lives, or when nothing
    can be told (another machine's file: its lock may be held out of sight)."""
    if fcntl is None or not _is_name(owner):
        return False
    try:
        fd = os.open(folder / f"{owner}{SUFFIX}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Made on this machine, or its lock may be held where this one cannot see it.
        return os.read(fd, _MACHINE_BYTES).decode("utf-8", "replace") == _machine()
    except OSError:
        return False
    finally:
        os.close(fd)  # lets go of the lock taken just now, if it was taken


def ended_owners(folder: Path) -> list[str]:
    """The owners named in ``folder`` whose process has ended."""
    try:
        names = [p.name[: -len(SUFFIX)] for p in folder.iterdir() if p.name.endswith(SUFFIX)]
    except OSError:
        return []
    return [name for name in sorted(names) if has_ended(folder, name)]


def forget(folder: Path, owner: str) -> None:
    """Remove an ended owner's file (once no job names it any more)."""
    if has_ended(folder, owner):
        (folder / f"{owner}{SUFFIX}").unlink(missing_ok=True)


def _machine() -> str:
    """This machine's name, as an owner file records it."""
    return socket.gethostname()[: _MACHINE_BYTES // 4]


def _is_name(owner: str) -> bool:
    return len(owner) == 32 and all(ch in "0123456789abcdef" for ch in owner)
