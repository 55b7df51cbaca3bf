"""Guard state shared by the HTTP processes of one server (SERVER=granian).

The endpoint's guard (server.endpoint.Guard) remembers queries that hit the time limit
(TIMEOUT_MEMO) and counts each client's long-running queries (MAX_HEAVY_PER_CLIENT).  Under
granian the requests of one client are spread over several processes, and a process whose
query passed the time limit exits (server.wsgi), so that bookkeeping cannot live in one
process: it lives here, in an anonymous shared memory mapping made by the server's main
process before it forks the HTTP processes (and every replacement), guarded by one
process-shared lock.  Both tables have fixed sizes; when one is full the oldest memo entry
is overwritten, and a query beyond the in-flight table is simply not counted.

A query enters the in-flight table only once it has run for HEAVY_AFTER seconds (the executor
calls back; see server.endpoint.answer_query), so the usual, quick query never takes the lock:
it reads one counter, finds no heavy query anywhere, and goes on.  (Counting every query in
and out cost about 20 us a request, most of it searching the table.)

Times are time.monotonic(), which on Linux is one clock for every process.
"""
from __future__ import annotations

import mmap
import multiprocessing
import os
import struct
import time

_MEMO = struct.Struct("<24sd")          # quoted ETag (22 bytes, zero-padded), refuse until
_FLIGHT = struct.Struct("<48sdi4x")     # client address (zero-padded), counted in at, pid
_HEAD = struct.Struct("<II")            # next memo slot to overwrite, next flight slot to try
_TURN = struct.Struct("<i")             # the process that is draining to exit (0: none)
_MEMO_USED = struct.Struct("<i")        # 1 once any timeout has been remembered
_HEAVY_USED = struct.Struct("<i")       # slots of the flight table in use (0: no heavy query)
_VERSION = struct.Struct("<64s")        # the data version the main process holds
_CPU = struct.Struct("<ii")             # an HTTP process and the CPU it is pinned to (PIN_CPUS)
_COUNT = struct.Struct("<i")            # HTTP processes that have exited on purpose


class SharedGuardState:
    MEMO_SLOTS = 1024
    FLIGHT_SLOTS = 512
    CPU_SLOTS = 256

    def __init__(self):
        self.turn_at = _HEAD.size
        self.used_at = self.turn_at + 8  # _HEAVY_USED
        self.main_at = self.turn_at + 12
        self.memo_at = self.main_at + _VERSION.size
        self.flight_at = self.memo_at + self.MEMO_SLOTS * _MEMO.size
        self.cpu_at = self.flight_at + self.FLIGHT_SLOTS * _FLIGHT.size
        self.exits_at = self.cpu_at + self.CPU_SLOTS * _CPU.size
        self._exits_seen = 0  # (in the main process) exits on purpose already reported
        size = self.exits_at + _COUNT.size
        self.mm = mmap.mmap(-1, size, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
        self.lock = multiprocessing.get_context("fork").Lock()

    # -- the timeout memo ----------------------------------------------------------------
    def refuse_until(self, key: str) -> float | None:
        mm, lo, hi = self.mm, self.memo_at, self.flight_at
        if _MEMO_USED.unpack_from(mm, self.turn_at + 4)[0] == 0:
            return None  # no timeout remembered yet (the usual case): nothing to search
        k = key.encode()[:24]
        with self.lock:
            pos = mm.find(k, lo, hi)
            while pos != -1:
                if (pos - lo) % _MEMO.size == 0:
                    stored, until = _MEMO.unpack_from(mm, pos)
                    if stored.rstrip(b"\0") == k:
                        return until if until > time.monotonic() else None
                pos = mm.find(k, pos + 1, hi)
        return None

    def remember_timeout(self, key: str, seconds: float) -> None:
        if seconds <= 0:
            return
        k = key.encode()[:24]
        until = time.monotonic() + seconds
        mm, lo, hi = self.mm, self.memo_at, self.flight_at
        with self.lock:
            pos = mm.find(k, lo, hi)
            while pos != -1 and (pos - lo) % _MEMO.size:
                pos = mm.find(k, pos + 1, hi)
            if pos == -1:
                nxt, nflight = _HEAD.unpack_from(mm, 0)
                pos = lo + (nxt % self.MEMO_SLOTS) * _MEMO.size
                _HEAD.pack_into(mm, 0, (nxt + 1) % self.MEMO_SLOTS, nflight)
            _MEMO.pack_into(mm, pos, k, until)
            _MEMO_USED.pack_into(mm, self.turn_at + 4, 1)

    # -- heavy queries in flight, by client -------------------------------------------------
    def admit(self, client: str, max_heavy: int) -> None:
        """Raise KGError 429 when ``client`` already has ``max_heavy`` heavy queries running (ones
        that passed HEAVY_AFTER and were counted in with heavy()), in any process.  No lock and
        no search while no heavy query is counted anywhere: the usual case."""
        from .sparql.fairness import check_turned_heavy

        if not max_heavy or _HEAVY_USED.unpack_from(self.mm, self.used_at)[0] == 0:
            return
        c = (client or "-").encode()[:47] + b"\0"
        mm, lo, size = self.mm, self.flight_at, _FLIGHT.size
        hi = lo + self.FLIGHT_SLOTS * size
        with self.lock:
            heavy, pos = 0, mm.find(c, lo, hi)
            while pos != -1:
                if (pos - lo) % size == 0 and _alive(_FLIGHT.unpack_from(mm, pos)[2]):
                    heavy += 1
                pos = mm.find(c, pos + 1, hi)
        check_turned_heavy(client, heavy, max_heavy)

    def heavy(self, client: str) -> int:
        """Count in a query of ``client`` that has run past HEAVY_AFTER; returns a ticket for
        leave(), or -1 when the table is full (the query is then not counted)."""
        c = (client or "-").encode()[:47]
        mm, lo, size, used_at = self.mm, self.flight_at, _FLIGHT.size, self.used_at
        with self.lock:
            nmemo, nxt = _HEAD.unpack_from(mm, 0)
            for i in range(self.FLIGHT_SLOTS):
                slot = (nxt + i) % self.FLIGHT_SLOTS
                at = lo + slot * size
                empty = mm[at] == 0
                if empty or not _alive(_FLIGHT.unpack_from(mm, at)[2]):  # (a dead process's slot)
                    _FLIGHT.pack_into(mm, at, c, time.monotonic(), os.getpid())
                    _HEAD.pack_into(mm, 0, nmemo, (slot + 1) % self.FLIGHT_SLOTS)
                    if empty:
                        _HEAVY_USED.pack_into(mm, used_at, _HEAVY_USED.unpack_from(mm, used_at)[0] + 1)
                    return slot
        return -1

    def leave(self, client: str, ticket: int) -> None:
        if ticket < 0:
            return
        mm, at, used_at = self.mm, self.flight_at + ticket * _FLIGHT.size, self.used_at
        with self.lock:
            if mm[at] != 0:
                mm[at:at + _FLIGHT.size] = bytes(_FLIGHT.size)
                _HEAVY_USED.pack_into(mm, used_at, max(0, _HEAVY_USED.unpack_from(mm, used_at)[0] - 1))

    # -- the data version of the main process (server.wsgi) ---------------------------------
    def set_main_version(self, version: str) -> None:
        """The data version the main process holds now, which the HTTP processes it forks next
        are born with (see main_version)."""
        with self.lock:
            _VERSION.pack_into(self.mm, self.main_at, version.encode()[:_VERSION.size])

    def main_version(self) -> str:
        """What set_main_version last stored ("" before): an HTTP process born with another
        version drains and exits, to be replaced by one that shares the main process's copy.
        One read of shared memory, no lock."""
        return _VERSION.unpack_from(self.mm, self.main_at)[0].rstrip(b"\0").decode()

    # -- one process at a time drains and exits (server.wsgi) -------------------------------
    def take_exit_turn(self) -> bool:
        """True when this process may drain and exit now: no other live process is doing so.
        So the server never has every process exiting at once."""
        me = os.getpid()
        with self.lock:
            (pid,) = _TURN.unpack_from(self.mm, self.turn_at)
            if pid and pid != me and _alive(pid):
                return False
            _TURN.pack_into(self.mm, self.turn_at, me)
            return True

    def note_exit_on_purpose(self) -> None:
        """Said by an HTTP process about to exit on purpose (server.wsgi._drain_and_exit)."""
        with self.lock:
            (n,) = _COUNT.unpack_from(self.mm, self.exits_at)
            _COUNT.pack_into(self.mm, self.exits_at, n + 1)

    def exited_on_purpose(self) -> bool:
        """In the main process, when granian reports that an HTTP process exited: whether an exit
        on purpose (note_exit_on_purpose) is still unaccounted for; each accounts for one report.
        False: the exit was not one of ours (a crash)."""
        with self.lock:
            (n,) = _COUNT.unpack_from(self.mm, self.exits_at)
        if n > self._exits_seen:
            self._exits_seen += 1
            return True
        return False

    # -- which CPU each HTTP process is pinned to (PIN_CPUS; server.wsgi) ---------------------
    def claim_cpu(self, cpus: list[int]) -> int:
        """The CPU of ``cpus`` that this process is to be pinned to: the one with the fewest live
        processes pinned to it (the first such, in the order given), recorded as this process's.
        A replacement process, forked once the one it replaces has exited, so takes its CPU."""
        me = os.getpid()
        mm, lo, size = self.mm, self.cpu_at, _CPU.size
        with self.lock:
            count = dict.fromkeys(cpus, 0)
            mine = free = None
            for i in range(self.CPU_SLOTS):
                pid, cpu = _CPU.unpack_from(mm, lo + i * size)
                if pid == me:
                    mine = i
                elif pid and _alive(pid):
                    if cpu in count:
                        count[cpu] += 1
                elif free is None:
                    free = i  # never used, or a process that has exited
            cpu = min(cpus, key=lambda c: count[c])  # (min keeps the first of equals)
            slot = mine if mine is not None else free
            if slot is not None:  # (a full table: the CPU is still chosen, just not recorded)
                _CPU.pack_into(mm, lo + slot * size, me, cpu)
            return cpu

    def pinned(self) -> dict[int, int]:
        """Live process -> the CPU it claimed (for tests and diagnostics)."""
        out = {}
        with self.lock:
            for i in range(self.CPU_SLOTS):
                pid, cpu = _CPU.unpack_from(self.mm, self.cpu_at + i * _CPU.size)
                if pid and _alive(pid):
                    out[pid] = cpu
        return out


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return True
