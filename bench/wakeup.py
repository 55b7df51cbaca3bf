"""What it costs to wake a thread: two Python threads hand a turn back and forth through locks,
as a request goes from an HTTP thread to a query thread and back (server.sparql.runner.ThreadExecutor).

    .venv/bin/python bench/wakeup.py            # 20,000 round trips per placement

Three placements: both threads free to run anywhere (the kernel's choice), both pinned to one
CPU, and pinned to two different CPUs.  It prints, per round trip (two wake-ups), the wall time
and the CPU time of the process, and the time a ``release()`` that wakes the other thread takes
(the waker holds the GIL meanwhile).  On a virtual machine a wake-up on another CPU goes through
the hypervisor (an inter-processor interrupt): what the PIN_CPUS option (each HTTP process, all
its threads, on one CPU) and the SCHED_BATCH default (fewer preemptions) cut down
(bench/RESULTS.md, stop 16).
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import loadgen as L  # noqa: E402


def round_trips(n: int, cpus: tuple[int, int] | None) -> tuple[float, float, float]:
    """(wall µs, CPU µs) per round trip and the median µs of a waking release()."""
    a, b = threading.Lock(), threading.Lock()
    a.acquire()
    b.acquire()
    releases: list[float] = []

    def other():
        if cpus:
            os.sched_setaffinity(0, {cpus[1]})
        for _ in range(n):
            a.acquire()
            t = time.perf_counter()
            b.release()
            releases.append(time.perf_counter() - t)

    before = os.sched_getaffinity(0)
    if cpus:
        os.sched_setaffinity(0, {cpus[0]})
    th = threading.Thread(target=other)
    th.start()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        a.release()
        b.acquire()
    th.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    os.sched_setaffinity(0, before)
    releases.sort()
    return wall / n * 1e6, cpu / n * 1e6, releases[len(releases) // 2] * 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--round-trips", type=int, default=20000)
    args = ap.parse_args(argv)
    cpus = sorted(os.sched_getaffinity(0))
    print(L.machine_line(L.machine()))
    print(f"{args.round_trips} round trips (two wake-ups each) per placement\n")
    print("| placement | wall µs / round trip | CPU µs / round trip | waking release() µs (median) |")
    print("|---|---:|---:|---:|")
    placements = [("free (the kernel's choice)", None), (f"one CPU ({cpus[0]})", (cpus[0], cpus[0]))]
    if len(cpus) > 1:
        placements.append((f"two CPUs ({cpus[0]}, {cpus[1]})", (cpus[0], cpus[1])))
    for name, where in placements:
        wall, cpu, rel = round_trips(args.round_trips, where)
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {rel:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
