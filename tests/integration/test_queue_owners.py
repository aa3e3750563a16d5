"""The owner of an in-process job queue (``jobs/owners.py``): another process can tell for
certain that it has ended, never while it lives, and nothing from a name it cannot find.
Real processes: the kernel, not the tool, lets an ended process's lock go."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lti_tool.jobs.owners import QueueOwner, ended_owners, forget, has_ended
from lti_tool.jobs.queue import ThreadQueue
from lti_tool.jobs.runner import ThreadJobRunner
from lti_tool.jobs.tasks import task

OWNER_PROCESS = """
import sys
from pathlib import Path
from lti_tool.jobs.owners import QueueOwner
owner = QueueOwner(Path(sys.argv[1]))
print(owner.name, flush=True)
sys.stdin.read()  # lives until its stdin closes; then ends without letting go itself
"""


def test_an_owner_is_alive_while_its_process_lives_and_ended_once_it_is_gone(
    tmp_path: Path,
) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", OWNER_PROCESS, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None and child.stdin is not None
        name = child.stdout.readline().strip()
        assert len(name) == 32
        assert not has_ended(tmp_path, name)
        assert not has_ended(tmp_path, name)  # asking does not take the lock from it
        assert ended_owners(tmp_path) == []
        forget(tmp_path, name)  # a live owner's file stays
        assert (tmp_path / f"{name}.lock").exists()
        child.stdin.close()
        child.wait(timeout=30)
    assert has_ended(tmp_path, name)
    assert ended_owners(tmp_path) == [name]
    forget(tmp_path, name)
    assert ended_owners(tmp_path) == []
    assert not has_ended(tmp_path, name)  # no file: nothing can be told


def test_a_name_without_its_file_here_proves_nothing(tmp_path: Path) -> None:
    assert not has_ended(tmp_path, "0" * 32)  # another machine's, or another folder's
    assert not has_ended(tmp_path / "missing", "0" * 32)
    assert not has_ended(tmp_path, "../../etc/passwd")


def test_an_owner_in_this_process_is_alive_until_released(tmp_path: Path) -> None:
    owner = QueueOwner(tmp_path)
    assert owner.name is not None
    assert not has_ended(tmp_path, owner.name)
    owner.release()
    assert has_ended(tmp_path, owner.name)


def test_an_unwritable_folder_names_no_owner(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert QueueOwner(blocked / "job-queues").name is None
    queue = ThreadQueue(ThreadJobRunner(max_workers=1), None, blocked / "job-queues")
    assert queue.owner is None
    assert not queue.lost(None, "sync-x")


held = threading.Event()


@task
def wait_for_the_test(services: object) -> None:
    held.wait(30)


def test_a_job_of_this_process_is_lost_only_once_its_queue_no_longer_holds_it(
    tmp_path: Path,
) -> None:
    runner = ThreadJobRunner(max_workers=1)
    queue = ThreadQueue(runner, None, tmp_path)
    other = ThreadQueue(ThreadJobRunner(max_workers=1), None, tmp_path)
    mine = queue.owner
    assert mine is not None and queue.owner == mine  # one name per process
    held.clear()
    queue.enqueue(wait_for_the_test, job_key="sync-a")
    assert not queue.lost(mine, "sync-a")  # running here
    assert queue.lost(mine, "sync-b")  # this queue never held it, and it is this queue's
    assert not other.lost(mine, "sync-a")  # another queue: the owner lives
    held.set()
    runner.shutdown()
    assert queue.lost(mine, "sync-a")
    queue.release()
    assert other.lost(mine, "sync-a")  # its process ended (released)
    assert other.ended_owners() == [mine]
    other.release()


def test_an_owner_on_another_machine_sharing_the_folder_is_never_judged_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two machines, each running the tool without Redis, with the instance folder on a
    network share (NFS mounted ``nolock``, some FUSE or SMB shares): a lock taken on one
    machine is not seen from the other. The other machine's live process must not be judged
    ended from here (its running sync would be taken back and sent twice), nor its file
    removed."""
    monkeypatch.setattr(socket, "gethostname", lambda: "ward-b-server")
    there = QueueOwner(tmp_path)
    assert there.name is not None
    there.release()  # what this machine sees of a lock held on the other: nothing
    monkeypatch.setattr(socket, "gethostname", lambda: "ward-a-server")

    assert not has_ended(tmp_path, there.name)
    assert ended_owners(tmp_path) == []
    forget(tmp_path, there.name)
    assert (tmp_path / f"{there.name}.lock").exists()
