"""server.shared: the guard's state shared by the HTTP processes (fork-inherited shared memory)."""
from __future__ import annotations

import os
import time

import pytest

from server.errors import KGError
from server.shared import SharedGuardState


def in_child(fn) -> int:
    """Run ``fn`` in a forked child; returns the child's pid once it has finished (but is not reaped)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            fn()
        finally:
            os.write(w, b"x")
            time.sleep(30)  # stays alive until killed
            os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"x"
    os.close(r)
    return pid


def reap(pid):
    os.kill(pid, 9)
    os.waitpid(pid, 0)


def test_a_timeout_remembered_in_one_process_is_refused_in_another():
    s = SharedGuardState()
    child = in_child(lambda: s.remember_timeout('"0123456789abcdef0123"', 5))
    reap(child)  # and it stays after that process is gone
    until = s.refuse_until('"0123456789abcdef0123"')
    assert until is not None and until > time.monotonic() + 4
    assert s.refuse_until('"0123456789abcdef0124"') is None
    s.remember_timeout('"short"', 0.05)
    time.sleep(0.1)
    assert s.refuse_until('"short"') is None


def test_the_memo_keeps_the_newest_when_full():
    s = SharedGuardState()
    for i in range(s.MEMO_SLOTS + 10):
        s.remember_timeout(f'"{i:020d}"', 60)
    assert s.refuse_until(f'"{s.MEMO_SLOTS + 9:020d}"') is not None
    assert s.refuse_until(f'"{0:020d}"') is None  # overwritten


def test_heavy_queries_of_a_client_count_across_processes_until_their_process_dies():
    s = SharedGuardState()
    child = in_child(lambda: [s.heavy("10.0.0.7") for _ in range(2)])
    with pytest.raises(KGError) as err:
        s.admit("10.0.0.7", 2)
    assert err.value.status == 429 and "2 long-running queries" in err.value.message
    s.admit("10.0.0.7", 3)  # under a higher limit it is admitted
    s.admit("10.0.0.70", 2)  # another client (a longer address) is not counted
    reap(child)  # the queries of a process that exited no longer count
    s.admit("10.0.0.7", 2)
    ticket = s.heavy("10.0.0.7")  # and its slots are taken again
    assert ticket >= 0
    s.leave("10.0.0.7", ticket)


def test_only_queries_counted_in_as_heavy_count_and_left_ones_are_forgotten():
    s = SharedGuardState()
    for _ in range(3):
        s.admit("c", 1)  # admitting a query counts nothing: only heavy() does
    t = s.heavy("c")
    with pytest.raises(KGError):
        s.admit("c", 1)
    s.leave("c", t)
    s.leave("c", t)  # (twice: nothing happens)
    s.admit("c", 1)
    s.leave("c", s.heavy("c"))
    s.admit("c", 1)


def test_admitting_a_query_reads_one_counter_while_no_query_is_heavy():
    """The usual case costs no lock and no search: the counter of slots in use is 0.  (With the
    lock held elsewhere, an admission that took it would not finish.)"""
    import threading

    s = SharedGuardState()

    def admitted_while_locked() -> bool:
        t = threading.Thread(target=s.admit, args=("d", 1), daemon=True)  # (d: never refused)
        with s.lock:
            t.start()
            t.join(1.0)
            return not t.is_alive()

    assert admitted_while_locked()
    t = s.heavy("c")
    assert not admitted_while_locked()  # a heavy query somewhere: the table is searched, under the lock
    s.leave("c", t)
    assert admitted_while_locked()  # back to 0 after leave()


def test_only_one_process_at_a_time_may_drain_and_exit():
    s = SharedGuardState()
    child = in_child(lambda: s.take_exit_turn())
    assert not s.take_exit_turn()
    reap(child)
    assert s.take_exit_turn() and s.take_exit_turn()  # (again: it is this process's turn)


def test_each_exit_on_purpose_accounts_for_one_report_of_an_exit():
    """The main process words granian's "Unexpected exit" report by this (server.wsgi): two exits
    on purpose in children, then three reports: two on purpose, the third not (a crash)."""
    s = SharedGuardState()
    assert not s.exited_on_purpose()
    for _ in range(2):
        reap(in_child(s.note_exit_on_purpose))
    assert [s.exited_on_purpose() for _ in range(3)] == [True, True, False]


def test_no_limit_means_no_bookkeeping_and_an_empty_memo_no_search():
    s = SharedGuardState()
    s.heavy("c")
    s.admit("c", 0)  # MAX_HEAVY_PER_CLIENT=0: no limit
    assert s.refuse_until('"0123456789abcdef0123"') is None
    s.remember_timeout('"0123456789abcdef0123"', 5)
    assert s.refuse_until('"0123456789abcdef0123"') is not None


def test_the_main_processs_version_is_seen_by_every_process():
    s = SharedGuardState()
    assert s.main_version() == ""
    child = in_child(lambda: s.set_main_version("aaaa1111"))
    reap(child)
    assert s.main_version() == "aaaa1111"
    s.set_main_version("bb")
    assert s.main_version() == "bb"
    s.set_main_version("x" * 100)  # (versions are 16 hex digits; a longer one is cut, not spilled)
    assert s.main_version() == "x" * 64


def test_each_process_claims_the_cpu_with_fewest_processes_and_a_replacement_takes_the_freed_one():
    """PIN_CPUS: every HTTP process, as it starts, claims a CPU (server.wsgi pins it there): the
    one with the fewest live processes, the first of equals.  A process that has exited no longer
    counts, so the one forked to replace it takes its CPU."""
    s = SharedGuardState()
    a = in_child(lambda: s.claim_cpu([3, 5]))
    b = in_child(lambda: s.claim_cpu([3, 5]))
    c = in_child(lambda: s.claim_cpu([3, 5]))
    d = e = None
    try:
        assert s.pinned() == {a: 3, b: 5, c: 3}
        reap(a)  # CPU 3 has one live process left, as CPU 5 has: the replacement takes 3
        d = in_child(lambda: s.claim_cpu([3, 5]))
        assert s.pinned() == {b: 5, c: 3, d: 3}
        reap(b)
        e = in_child(lambda: [s.claim_cpu([3, 5]), s.claim_cpu([3, 5])])  # claiming again: one entry
        assert s.pinned() == {c: 3, d: 3, e: 5}
    finally:
        for pid in (a, b, c, d, e):
            try:
                if pid:
                    reap(pid)
            except (ProcessLookupError, ChildProcessError):
                pass
    assert s.pinned() == {}
