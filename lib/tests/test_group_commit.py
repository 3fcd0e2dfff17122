"""lib/group_commit.py with real threads: who commits what, in which groups, and who hears which error."""

import threading
import time

import pytest

from lib.group_commit import GroupCommit, GroupCommits

WAIT = 10  # seconds; only a broken group commit waits this long


class Recorder:
    """A commit that records each group and the thread that ran it; the first group can be held open."""

    def __init__(self, *, fail_with: str | None = None, hold_first: bool = False) -> None:
        self.groups: list[list[str]] = []
        self.threads: list[str] = []
        self.fail_with = fail_with
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()

    def __call__(self, items: list[str]) -> None:
        self.groups.append(list(items))
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        assert self.release.wait(WAIT)
        if self.fail_with in items:
            raise ValueError(f"cannot commit {self.fail_with}")


class Callers:
    """Callers, each in its own thread named after its item, submitted one at a time so the queue's order
    is known; `outcomes` holds what each saw (None: committed) once it returned."""

    def __init__(self, committer: GroupCommit) -> None:
        self.committer = committer
        self.outcomes: dict[str, BaseException | None] = {}
        self.threads: list[threading.Thread] = []

    def submit(self, item: str, *, queued_behind: int | None = None) -> None:
        """Start a caller; with `queued_behind`, wait until that many callers (it included) are queued."""
        thread = threading.Thread(target=self._submit, args=(item,), name=item)
        self.threads.append(thread)
        thread.start()
        if queued_behind is not None:
            deadline = time.monotonic() + WAIT
            while len(self.committer._waiting) < queued_behind:
                assert time.monotonic() < deadline, "callers never queued"
                time.sleep(0.001)

    def _submit(self, item: str) -> None:
        try:
            self.committer.submit(item)
            self.outcomes[item] = None
        except BaseException as error:
            self.outcomes[item] = error

    def joined(self) -> dict[str, BaseException | None]:
        for thread in self.threads:
            thread.join(WAIT)
            assert not thread.is_alive(), "a caller never returned"
        return self.outcomes


def test_a_caller_alone_commits_at_once_in_its_own_thread():
    commit = Recorder()
    GroupCommit(commit, max_items=8).submit("a")
    assert commit.groups == [["a"]]
    assert commit.threads == [threading.current_thread().name]


def queued_behind_a_held_commit(commit: Recorder, *, max_items: int, behind: list[str]) -> dict:
    """ "a" leads and its commit is held open while `behind` queue one by one; then it is released.
    What each caller saw."""
    callers = Callers(GroupCommit(commit, max_items=max_items))
    callers.submit("a")
    assert commit.entered.wait(WAIT)
    for count, item in enumerate(behind, start=1):
        callers.submit(item, queued_behind=count)
    commit.release.set()
    return callers.joined()


def test_callers_arriving_during_a_commit_share_the_next_one_led_by_the_oldest():
    commit = Recorder(hold_first=True)
    outcomes = queued_behind_a_held_commit(commit, max_items=8, behind=["b", "c", "d"])
    assert outcomes == {"a": None, "b": None, "c": None, "d": None}
    assert commit.groups == [["a"], ["b", "c", "d"]]
    assert commit.threads == ["a", "b"]  # each leader commits in its own thread


def test_a_group_holds_at_most_max_items_and_the_rest_follow_in_order():
    commit = Recorder(hold_first=True)
    queued_behind_a_held_commit(commit, max_items=2, behind=["b", "c", "d", "e", "f"])
    assert commit.groups == [["a"], ["b", "c"], ["d", "e"], ["f"]]
    assert commit.threads == ["a", "b", "d", "f"]


def test_a_failed_group_is_committed_again_item_by_item_and_only_the_bad_item_fails():
    commit = Recorder(fail_with="bad", hold_first=True)
    outcomes = queued_behind_a_held_commit(commit, max_items=8, behind=["b", "bad", "c"])
    assert commit.groups == [["a"], ["b", "bad", "c"], ["b"], ["bad"], ["c"]]
    assert (outcomes["a"], outcomes["b"], outcomes["c"]) == (None, None, None)
    assert isinstance(outcomes["bad"], ValueError)


def test_a_caller_alone_gets_its_own_error():
    with pytest.raises(ValueError, match="cannot commit bad"):
        GroupCommit(Recorder(fail_with="bad"), max_items=8).submit("bad")


def test_an_interrupted_commit_fails_its_group_and_the_next_caller_still_leads():
    release = threading.Event()
    calls: list[list[str]] = []

    def commit(items: list[str]) -> None:
        calls.append(list(items))
        if items == ["a"]:
            assert release.wait(WAIT)
        elif "b" in items:
            raise KeyboardInterrupt  # a BaseException is not retried, but nobody may wait for ever

    group = GroupCommit(commit, max_items=8)
    callers = Callers(group)
    callers.submit("a")
    callers.submit("b", queued_behind=1)
    callers.submit("c", queued_behind=2)
    release.set()
    outcomes = callers.joined()
    assert calls == [["a"], ["b", "c"]]
    assert outcomes["a"] is None
    assert isinstance(outcomes["b"], KeyboardInterrupt)  # the leader's own exception
    assert isinstance(outcomes["c"], RuntimeError)
    group.submit("d")  # nothing is left leading: the next caller commits at once
    assert calls[-1] == ["d"]


def test_group_commits_keep_keys_apart():
    commit = Recorder()
    groups = GroupCommits(commit, max_items=8)
    groups.submit(1, "a")
    groups.submit(2, "b")
    assert commit.groups == [["a"], ["b"]]
    assert groups._groups.keys() == {1, 2}


def test_max_items_below_one_is_refused():
    with pytest.raises(ValueError):
        GroupCommit(Recorder(), max_items=0)
