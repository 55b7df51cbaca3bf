"""The killable query executor itself (real worker processes over a real build folder).

In STORE_MODE=memory the workers are forked from one template process that loaded the
store once: they share its memory, and a killed worker is replaced in milliseconds.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import make_build_dir
from server.executor import Answer, Job, QueryExecutor, QueryTimeout

PATHOLOGICAL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def private_kib(pid: int) -> tuple[int, int]:
    """(RSS, private memory) of a process in KiB, from /proc/<pid>/smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        k, v = line.split(":", 1)
        fields[k] = int(v.split()[0])
    return fields["Rss"], fields["Private_Clean"] + fields["Private_Dirty"]


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_idle(ex: QueryExecutor, n: int, within: float) -> float:
    t0 = time.monotonic()
    while ex._idle.qsize() < n:
        assert time.monotonic() - t0 < within, f"only {ex._idle.qsize()} of {n} workers ready"
        time.sleep(0.01)
    return time.monotonic() - t0


@contextmanager
def running(build, size: int, *, timeout: float, mode: str = "memory", shared: bool | None = None):
    """A QueryExecutor whose ``size`` workers are all ready; closed afterwards."""
    ex = QueryExecutor(str(build), size=size, mode=mode, timeout=timeout, shared=shared)
    try:
        wait_idle(ex, size, 120)
        yield ex
    finally:
        ex.close()


def answer_of(ex: QueryExecutor, query: str, version: str, timeout: float | None = None) -> bytes:
    a = ex.run(Job(sparql=query, format="csv", version=version), timeout=timeout)
    assert isinstance(a, Answer)
    return a.body


@pytest.fixture()
def small_build(tmp_path):
    quads = [ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:p"), ox.Literal(str(i)),
                     ox.NamedNode("urn:g")) for i in range(300)]
    return make_build_dir(tmp_path / "build", quads)


@pytest.fixture(scope="module")
def big_build(tmp_path_factory):
    """200,000 quads: a store of ~100 MiB in memory, much more than the interpreter's own."""
    lit = "a literal long enough to make the store weigh something " * 2
    quads = [ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode(f"urn:p{i % 7}"), ox.Literal(f"{lit}{i}"),
                     ox.NamedNode(f"urn:g{i % 3}")) for i in range(200_000)]
    return make_build_dir(tmp_path_factory.mktemp("big") / "build", quads)


@pytest.mark.parametrize("shared", [True, False])
def test_memory_workers_forked_from_one_template_share_its_store(big_build, shared):
    """Forked from the template, a worker's own (private) memory is a small part of what it
    uses: the store's pages are the template's.  Spawned (shared=False, as before), each
    worker loads its own copy, and most of its memory is its own.  (A query that scans the
    whole store makes a forked worker copy some pages, about a third here: the engine
    updates reference counts as it reads.)"""
    from server.store import version_of

    with running(big_build, 2, timeout=30, shared=shared) as ex:
        assert ex.shared is shared
        workers = list(ex._all)
        if shared:
            assert {ppid(w.pid) for w in workers} == {ex._zygote.proc.pid}
        for scanned in (False, True):
            if scanned:
                assert answer_of(ex, COUNT, version_of(big_build)).split()[1] == b"200000"
                assert answer_of(ex, COUNT, version_of(big_build)).split()[1] == b"200000"
            for w in workers:
                rss, private = private_kib(w.pid)
                assert rss > 100_000, rss  # KiB: the store is resident in every worker
                if not shared:
                    assert private > 0.8 * rss, (rss, private)
                else:
                    assert private < (0.5 if scanned else 0.1) * rss, (scanned, rss, private)


def test_the_default_in_memory_mode_is_shared(built):
    with running(built, 1, timeout=5) as ex:
        assert ex.shared
        assert {ppid(w.pid) for w in ex._all} == {ex._zygote.proc.pid}


def test_a_killed_worker_is_replaced_in_well_under_a_second(built):
    from server.store import version_of

    with running(built, 2, timeout=1) as ex:
        version = version_of(built)
        with pytest.raises(QueryTimeout):
            answer_of(ex, PATHOLOGICAL, version)
        assert wait_idle(ex, 2, 5) < 1.0  # forked, nothing to load (it used to reload the dump)
        assert answer_of(ex, COUNT, version)


def test_workers_forked_after_a_load_see_the_new_data(small_build):
    from server.store import read_appends, version_of
    from server.writes import load

    with running(small_build, 1, timeout=1) as ex:
        v1 = version_of(small_build)
        assert answer_of(ex, COUNT, v1).split()[1] == b"300"
        extra = [ox.Quad(ox.NamedNode("urn:new"), ox.NamedNode("urn:p"), ox.Literal("x"))]
        load(small_build, extra, graph="urn:g2")
        v2 = version_of(small_build)
        assert v2 != v1 and read_appends(small_build)[-1][2] == v2  # an appending load
        # the worker's query stops at the limit: its replacement comes from the template,
        # which first brings its store up to date (catch_up: it adds the appended line)
        with pytest.raises(QueryTimeout):
            answer_of(ex, PATHOLOGICAL, v2)
        wait_idle(ex, 1, 30)
        (w,) = ex._all
        assert ppid(w.pid) == ex._zygote.proc.pid
        assert answer_of(ex, COUNT, v2).split()[1] == b"301"


def test_closing_the_executor_stops_the_template_and_the_workers(built):
    with running(built, 2, timeout=5) as ex:
        pids = [w.pid for w in ex._all] + [ex._zygote.proc.pid]
    time.sleep(0.5)
    assert not [pid for pid in pids if alive(pid)]


def test_disk_mode_workers_open_their_own_store(built):
    with running(built, 1, timeout=5, mode="disk") as ex:
        assert not ex.shared
        (w,) = ex._all
        assert ppid(w.pid) == os.getpid()


def test_a_dead_template_is_restarted_and_its_workers_replaced(built):
    """If the template dies (say the OOM killer took it), its workers die with it; the next
    query finds them gone, and is answered by a worker of a new template."""
    import signal

    from server.store import version_of

    with running(built, 2, timeout=5) as ex:
        old = ex._zygote.proc.pid
        os.kill(old, signal.SIGKILL)
        ex._zygote.proc.wait(5)
        time.sleep(0.3)
        assert answer_of(ex, COUNT, version_of(built)).split()[1].isdigit()
        wait_idle(ex, 2, 60)
        assert ex._zygote.proc.pid != old
        assert {ppid(w.pid) for w in ex._all} == {ex._zygote.proc.pid}


def test_workers_and_template_die_with_a_killed_web_process(built, tmp_path):
    """kill -9 of the process that owns the executor leaves no query process behind: the
    template sees its socket close, and the workers die with the template (PDEATHSIG)."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "owner.py"
    script.write_text(
        "import sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})\n"
        "from server.executor import QueryExecutor\n"
        f"ex = QueryExecutor({str(built)!r}, size=2, mode='memory', timeout=5)\n"
        "while ex._idle.qsize() < 2: time.sleep(0.05)\n"
        "print(' '.join(str(w.pid) for w in ex._all), ex._zygote.proc.pid, flush=True)\n"
        "time.sleep(60)\n")
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in owner.stdout.readline().split()]
        assert len(pids) == 3
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(alive(p) for p in pids):
            time.sleep(0.05)
        assert not [p for p in pids if alive(p)]
    finally:
        if owner.poll() is None:
            owner.kill()


def test_counting_the_rows_of_native_json_agrees_with_parsing_it(kg):
    """count_rows reads the row count of pyoxigraph's JSON without parsing it; it must agree
    with a parser, whatever the values hold (quotes, braces, the boundary text itself)."""
    import json

    from server.executor import count_rows

    tricky = ox.Store()
    # the values hold the boundary text itself, and end with it (then the closing quote follows
    # it, and } or , after that: the term's end, or its language)
    texts = ['}},{"', '{"a":{"type":"', "{}", '"}},{"x"', "plain", 'ab\\"}},{\\"c', 'x}},{', '},{', 'y},{',
             '},{}', '},{"a"', '}},{}']
    for i, text in enumerate(texts):
        tricky.add(ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:p"), ox.Literal(text)))
        tricky.add(ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:q"), ox.Literal(text, language="zh")))
    cases = [(tricky, q) for q in (
        "SELECT ?s ?o WHERE { ?s <urn:p> ?o }",
        "SELECT ?o ?s WHERE { ?s ?p ?o }",
        "SELECT ?s ?x WHERE { ?s <urn:p> ?o OPTIONAL { ?s <urn:none> ?x } }",
        "SELECT ?x WHERE { ?s <urn:p> ?o OPTIONAL { ?s <urn:none> ?x } }",  # empty solutions
        "SELECT ?s WHERE { ?s <urn:none> ?o }",  # no solution
        "SELECT ?x WHERE { VALUES ?x { UNDEF } }",  # one empty solution
        "SELECT ?x WHERE { VALUES ?x { UNDEF 1 } }",  # an empty solution first
        "SELECT ?x WHERE { VALUES ?x { 1 UNDEF } }",  # an empty solution last
        "SELECT ?x WHERE { VALUES ?x { 1 UNDEF 2 } }",  # one in the middle
        # triple terms nest objects in a solution, also as its last binding
        "SELECT ?t ?s WHERE { ?s <urn:p> ?o BIND(TRIPLE(?s, <urn:p>, ?o) AS ?t) }",
        "SELECT ?s ?t WHERE { ?s <urn:p> ?o BIND(TRIPLE(?s, <urn:q>, TRIPLE(?s, <urn:p>, ?o)) AS ?t) }",
    )] + [(kg.store, q) for q in (
        "SELECT ?f ?v ?u WHERE { ?f <https://w3id.org/econplan/def#value> ?v OPTIONAL { ?f <https://w3id.org/econplan/def#unit> ?u } }",
        "SELECT ?k (COUNT(*) AS ?n) (SUM(?v) AS ?t) WHERE { ?f <https://w3id.org/econplan/def#kind> ?k OPTIONAL { ?f <https://w3id.org/econplan/def#value> ?v } } GROUP BY ?k",
        "SELECT * WHERE { ?s ?p ?o } LIMIT 2000",
    )]
    for store, q in cases:
        result = store.query(q, use_default_graph_as_union=True)
        variables = [v.value for v in result.variables]
        body = result.serialize(format=ox.QueryResultsFormat.JSON)
        assert count_rows(body, "json", variables) == len(json.loads(body)["results"]["bindings"]), q
    # each tricky value alone among plain ones: with several in one answer, one may make the
    # counter give up and parse, and so hide another that fools it
    for text in texts:
        for q in ('SELECT ?o ?n WHERE { VALUES (?o ?n) { ("a" 1) (%s 2) ("b" 3) } }',
                  'SELECT ?n ?o WHERE { VALUES (?n ?o) { (1 "a") (2 %s) (3 "b") } }',
                  'SELECT ?o WHERE { VALUES ?o { "a" %s "b" } }'):
            for term in (ox.Literal(text), ox.Literal(text, language="zh")):
                query = q % term
                body = ox.Store().query(query).serialize(format=ox.QueryResultsFormat.JSON)
                assert count_rows(body, "json") == 3, (query, body)


def test_counting_the_rows_of_usual_json_reads_no_json(kg, monkeypatch):
    """On an answer without empty solutions or braces in its values, count_rows counts
    boundaries: the parser it falls back to is never called."""
    import json

    from server.executor import count_rows

    def no_parsing(*a, **k):
        raise AssertionError("count_rows parsed the answer")

    for q in ("SELECT ?f ?v WHERE { ?f <https://w3id.org/econplan/def#value> ?v }",
              "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1",
              "SELECT ?s WHERE { ?s <urn:none> ?o }",
              "SELECT ?f ?t WHERE { ?f <https://w3id.org/econplan/def#value> ?v "
              "BIND(TRIPLE(?f, <urn:q>, TRIPLE(?f, <urn:p>, ?v)) AS ?t) }"):
        body = kg.store.query(q, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
        expected = len(json.loads(body)["results"]["bindings"])
        with monkeypatch.context() as m:
            m.setattr(json, "loads", no_parsing)
            assert count_rows(body, "json") == expected, q


@pytest.mark.parametrize("fmt", ["json", "csv", "xml"])
def test_the_native_and_the_python_serializations_agree(kg, fmt):
    """A large SELECT over the row cap is rendered by protocol.iter_solutions, a smaller one by
    pyoxigraph: both must write the same bytes (XML: the same solutions)."""
    from server.protocol import OX_RESULT_FORMAT, RESULT_FORMATS, iter_solutions

    f = next(f for f in RESULT_FORMATS if f.name == fmt)
    for q in ("SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 3000",
              "SELECT ?f ?v ?u WHERE { ?f <https://w3id.org/econplan/def#value> ?v "
              "OPTIONAL { ?f <https://w3id.org/econplan/def#unit> ?u } } ORDER BY ?f",
              "SELECT ?x WHERE { FILTER(false) }"):
        result = kg.store.query(q, use_default_graph_as_union=True)
        variables = [v.value for v in result.variables]
        native = kg.store.query(q, use_default_graph_as_union=True).serialize(format=OX_RESULT_FORMAT[fmt])
        ours = "".join(iter_solutions(variables, (tuple(s[v] for v in variables) for s in result), f)).encode()
        if fmt == "xml":  # the same solutions; the two escape line breaks differently
            native, ours = ([[tuple(sol[v] for v in variables) for sol in
                              ox.parse_query_results(x, format=ox.QueryResultsFormat.XML)] for x in (native, ours)])
            assert len(ours) > 0 or "false" in q
        assert ours == native, q


# -- ThreadExecutor: queries in threads of this process (SERVER=granian) -----------------------

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"  # n² solutions, then done


def _kg_of(n: int):
    from server.store import KnowledgeGraph

    store = ox.Store()
    store.extend([ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:p"), ox.Literal(i)) for i in range(n)])
    return KnowledgeGraph(store, version="v1")


@pytest.fixture()
def slow_kg():
    return _kg_of(6000)  # SLOW takes 3-6 s here


@pytest.fixture()
def less_slow_kg():
    return _kg_of(2000)  # SLOW takes 0.5-1 s here


@pytest.fixture()
def stuck_calls(monkeypatch):
    import server.executor as ex

    calls = []
    monkeypatch.setattr(ex, "on_stuck", lambda: calls.append(time.monotonic()))
    return calls


def test_a_query_thread_past_the_limit_is_written_off_replaced_and_reported_stuck(slow_kg, stuck_calls):
    from server.executor import ThreadExecutor

    ex = ThreadExecutor(lambda v: slow_kg, size=1, timeout=0.3, queue_timeout=0.5)
    try:
        t0 = time.monotonic()
        with pytest.raises(QueryTimeout):
            ex.run(Job(sparql=SLOW, version="v1"))
        assert time.monotonic() - t0 < 0.6
        # the one thread is busy with the runaway query, yet the next query is answered by its
        # replacement at once
        t0 = time.monotonic()
        answer = ex.run(Job(sparql="ASK { ?s ?p ?o }", version="v1"))
        assert b"true" in answer.body and time.monotonic() - t0 < 0.2
        time.sleep(ex.grace + 0.2)
        assert len(stuck_calls) == 1  # still running after the grace: the process must go
    finally:
        ex.close()


def test_a_query_thread_that_finishes_within_the_grace_is_not_reported(less_slow_kg, stuck_calls):
    from server.executor import ThreadExecutor

    ex = ThreadExecutor(lambda v: less_slow_kg, size=1, timeout=0.2, queue_timeout=0.5)
    ex.grace = 5.0
    try:
        with pytest.raises(QueryTimeout):
            ex.run(Job(sparql=SLOW, version="v1"))
        time.sleep(2.0)  # it finishes (in the background) well within the grace
        assert stuck_calls == []
        # and its permit was not given back twice: one thread still means one query at a time
        assert ex._free.qsize() == 1
    finally:
        ex.close()


def test_the_slow_callback_is_called_only_for_a_query_still_running_after_its_delay(less_slow_kg, stuck_calls):
    """server.endpoint counts a query as heavy (MAX_HEAVY_PER_CLIENT) through this callback, so a
    quick query costs no bookkeeping; the time limit still counts from the start."""
    from server.executor import ThreadExecutor

    ex = ThreadExecutor(lambda v: less_slow_kg, size=1, timeout=5, queue_timeout=0.5)
    try:
        calls = []
        ex.run(Job(sparql="ASK { ?s ?p ?o }", version="v1"), slow=(0.2, lambda: calls.append(1)))
        assert calls == []
        t0 = time.monotonic()
        answer = ex.run(Job(sparql=SLOW, version="v1"), slow=(0.1, lambda: calls.append(time.monotonic() - t0)))
        assert b"4000000" in answer.body
        assert len(calls) == 1 and 0.1 <= calls[0] < 0.4, calls
        t0 = time.monotonic()
        with pytest.raises(QueryTimeout):
            ex.run(Job(sparql=SLOW, version="v1"), timeout=0.3, slow=(0.1, lambda: calls.append(0)))
        assert time.monotonic() - t0 < 0.5 and len(calls) == 2
    finally:
        ex.close()


def test_a_worker_process_calls_the_slow_callback_too(built):
    from server.store import version_of

    calls = []
    with running(built, 1, timeout=10) as ex:
        version = version_of(built)
        # a delay of 0: the answer cannot be back in the pipe yet when it is first looked for
        answer = ex.run(Job(sparql=COUNT, version=version), slow=(0.0, lambda: calls.append("counted")))
        assert b"results" in answer.body
        ex.run(Job(sparql="ASK {}", version=version), slow=(5.0, lambda: calls.append("quick")))
    assert calls == ["counted"]


def test_query_threads_all_busy_answer_busy(less_slow_kg, stuck_calls):
    import threading

    from server.executor import Busy, ThreadExecutor

    ex = ThreadExecutor(lambda v: less_slow_kg, size=1, timeout=5, queue_timeout=0.2)
    try:
        t = threading.Thread(target=ex.run, args=(Job(sparql=SLOW, version="v1"),))
        t.start()
        time.sleep(0.1)
        with pytest.raises(Busy):
            ex.run(Job(sparql="ASK {}", version="v1"))
        t.join()
        assert b"true" in ex.run(Job(sparql="ASK {}", version="v1")).body
    finally:
        ex.close()


def test_a_streamed_answer_from_a_thread_is_complete_and_a_hang_up_frees_the_thread(kg, stuck_calls):
    from server.executor import Stream, ThreadExecutor

    ex = ThreadExecutor(lambda v: kg, size=1, timeout=10)
    job = Job(sparql="SELECT * WHERE { ?s ?p ?o }", accept="application/sparql-results+json",
              version=kg.version, stream_after=10_000, max_rows=1_000_000)
    try:
        answer = ex.run(job)
        assert isinstance(answer, Stream) and answer.rows == len(kg)
        body = b"".join(answer.chunks)
        assert body.count(b'"s":') == len(kg)
        for _ in range(3):  # more than the one thread: each hang-up must free it
            answer = ex.run(job)
            next(answer.chunks)
            answer.chunks.close()
        t0 = time.monotonic()
        assert b"true" in ex.run(Job(sparql="ASK {}", version=kg.version)).body
        assert time.monotonic() - t0 < 1.0 and stuck_calls == []
    finally:
        ex.close()
