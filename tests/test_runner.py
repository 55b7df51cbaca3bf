"""The query runner itself (server.sparql.runner), over real stores: the answers (row counts,
native and Python serializations, streams), the time limit, the memory limit, the large stack."""
from __future__ import annotations

import os
import time

import pyoxigraph as ox
import pytest

from server.sparql.runner import Job, QueryTimeout

PATHOLOGICAL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def test_counting_the_rows_of_native_json_agrees_with_parsing_it(kg):
    """count_rows reads the row count of pyoxigraph's JSON without parsing it; it must agree
    with a parser, whatever the values hold (quotes, braces, the boundary text itself)."""
    import json

    from server.sparql.runner import count_rows

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

    from server.sparql.runner import count_rows

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
    from server.sparql.protocol import OX_RESULT_FORMAT, RESULT_FORMATS, iter_solutions

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


# -- Runner: queries in threads of this process -----------------------------------------------

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"  # n² solutions, then done


def _kg_of(n: int):
    from server.kg.store import KnowledgeGraph

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
    import server.sparql.runner as ex

    calls = []
    monkeypatch.setattr(ex, "on_retire", lambda reason: calls.append((reason, time.monotonic())))
    return calls


def test_a_query_thread_past_the_limit_is_written_off_replaced_and_reported_stuck(slow_kg, stuck_calls):
    from server.sparql.runner import Runner

    ex = Runner(lambda v: slow_kg, size=1, timeout=0.3, queue_timeout=0.5)
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
        assert [c[0] for c in stuck_calls] == ["timeout"]  # still running after the grace: the process must go
    finally:
        ex.close()


def test_a_query_thread_that_finishes_within_the_grace_is_not_reported(less_slow_kg, stuck_calls):
    from server.sparql.runner import Runner

    ex = Runner(lambda v: less_slow_kg, size=1, timeout=0.2, queue_timeout=0.5)
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
    """server.sparql.endpoint counts a query as heavy (MAX_HEAVY_PER_CLIENT) through this callback, so a
    quick query costs no bookkeeping; the time limit still counts from the start."""
    from server.sparql.runner import Runner

    ex = Runner(lambda v: less_slow_kg, size=1, timeout=5, queue_timeout=0.5)
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


def test_a_long_query_yields_the_cpu_and_its_thread_is_replaced_after_it(less_slow_kg, stuck_calls):
    """A query still running after yield_after runs at YIELD_NICE (short queries of others get the CPU
    first); its thread cannot lower its nice value again, so it ends with the query and the next
    query runs at the normal priority in a fresh thread.  A quick query never yields."""
    import threading

    from server.sparql.runner import YIELD_NICE, Runner

    def nice_of(tid: int) -> int:  # field 19 of /proc/<pid>/task/<tid>/stat
        stat = open(f"/proc/{os.getpid()}/task/{tid}/stat").read()
        return int(stat.rsplit(")", 1)[1].split()[16])

    others = {t.native_id for t in threading.enumerate()}  # e.g. other tests' written-off threads
    ex = Runner(lambda v: less_slow_kg, size=1, timeout=10, queue_timeout=0.5, yield_after=0.1)
    seen = {}

    def query_threads() -> dict:
        return {t.native_id: nice_of(t.native_id) for t in threading.enumerate()
                if t.name == "econplan-query-thread" and t.is_alive() and t.native_id not in others}
    try:
        ex.run(Job(sparql="ASK { ?s ?p ?o }", version="v1"))
        (first,) = query_threads()
        assert query_threads()[first] == 0
        probe = threading.Timer(0.4, lambda: seen.update(query_threads()))
        probe.start()
        answer = ex.run(Job(sparql=SLOW, version="v1"))
        probe.join()
        assert b"4000000" in answer.body
        # it yielded while it ran, and its replacement (at nice 0) was already waiting for jobs
        assert seen.pop(first) == YIELD_NICE and list(seen.values()) == [0], seen
        time.sleep(0.1)
        after = query_threads()
        assert first not in after and list(after.values()) == [0], after  # a fresh thread at nice 0
        assert b"true" in ex.run(Job(sparql="ASK { ?s ?p ?o }", version="v1")).body
        assert ex._free.qsize() == 1 and stuck_calls == []
    finally:
        ex.close()


def test_a_query_refused_once_it_turned_heavy_is_answered_at_once_and_the_process_stays(less_slow_kg, stuck_calls,
                                                                                        caplog):
    """A slow callback that raises (server.sparql.fairness: 429 once the query turned heavy) answers
    the request at once; the query cannot be stopped, so its thread is written off and replaced,
    and since it ends within its own time limit the process is not retired."""
    import logging

    from server.sparql.fairness import TooManyHeavyQueries
    from server.sparql.runner import Runner

    def refuse():
        raise TooManyHeavyQueries("refused (MAX_HEAVY_PER_CLIENT)")

    ex = Runner(lambda v: less_slow_kg, size=1, timeout=10, queue_timeout=0.5)
    ex.grace = 0.5
    try:
        t0 = time.monotonic()
        with caplog.at_level(logging.INFO, logger="econplan.runner"):
            with pytest.raises(TooManyHeavyQueries) as e:
                ex.run(Job(sparql=SLOW, version="v1"), slow=(0.1, refuse))
        assert e.value.status == 429 and time.monotonic() - t0 < 0.4
        assert any("runs on in the background" in r.getMessage() and r.levelno == logging.INFO
                   for r in caplog.records), caplog.text
        # the one thread is still busy with it, yet the next query is answered by its replacement
        t0 = time.monotonic()
        answer = ex.run(Job(sparql="ASK { ?s ?p ?o }", version="v1"))
        assert b"true" in answer.body and time.monotonic() - t0 < 0.3
        time.sleep(3.0)  # it ends (0.5-1 s) well within its time limit (10 s): the process stays
        assert stuck_calls == []
        assert ex._free.qsize() == 1
    finally:
        ex.close()


def test_a_refused_query_still_running_past_its_time_limit_retires_the_process(slow_kg, stuck_calls):
    from server.sparql.fairness import TooManyHeavyQueries
    from server.sparql.runner import Runner

    def refuse():
        raise TooManyHeavyQueries("refused (MAX_HEAVY_PER_CLIENT)")

    ex = Runner(lambda v: slow_kg, size=1, timeout=0.6, queue_timeout=0.5)
    ex.grace = 0.3
    try:
        t0 = time.monotonic()
        with pytest.raises(TooManyHeavyQueries):
            ex.run(Job(sparql=SLOW, version="v1"), slow=(0.1, refuse))
        time.sleep(0.5)
        assert stuck_calls == []  # not before its own time limit (0.6 s) and the grace
        time.sleep(0.6)
        assert [c[0] for c in stuck_calls] == ["timeout"] and stuck_calls[0][1] - t0 >= 0.85
    finally:
        ex.close()


def test_query_threads_all_busy_answer_busy(less_slow_kg, stuck_calls):
    import threading

    from server.sparql.runner import Busy, Runner

    ex = Runner(lambda v: less_slow_kg, size=1, timeout=5, queue_timeout=0.2)
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
    from server.sparql.runner import Stream, Runner

    ex = Runner(lambda v: kg, size=1, timeout=10)
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


def test_queries_past_the_memory_limit_are_answered_503_and_the_process_told_to_go(stuck_calls):
    """QUERY_MEMORY: the watchdog sees the queries' memory pass the limit, answers each running
    query 503 memory-limit at once and calls on_retire("memory"); the process then takes no more
    queries (503 busy) until it is replaced."""
    from server.kg.errors import KGError
    from server.sparql.runner import Busy, Runner

    kg = _kg_of(3000)
    ex = Runner(lambda v: kg, size=2, timeout=60, queue_timeout=0.5, memory=64 << 20)
    try:
        t0 = time.monotonic()
        with pytest.raises(KGError) as info:
            ex.run(Job(sparql="SELECT * { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1", version="v1"))
        assert info.value.status == 503 and info.value.code == "memory-limit"
        assert "QUERY_MEMORY" in info.value.message and time.monotonic() - t0 < 30
        deadline = time.monotonic() + 2
        while not stuck_calls and time.monotonic() < deadline:  # (called right after the answer)
            time.sleep(0.01)
        assert [c[0] for c in stuck_calls] == ["memory"]
        with pytest.raises(Busy):
            ex.run(Job(sparql="ASK {}", version="v1"))
    finally:
        ex.close()


def test_a_query_within_the_memory_limit_is_answered(less_slow_kg, stuck_calls):
    from server.sparql.runner import Runner

    ex = Runner(lambda v: less_slow_kg, size=1, timeout=30, queue_timeout=0.5, memory=512 << 20)
    try:
        assert b"4000000" in ex.run(Job(sparql=SLOW, version="v1")).body
        assert stuck_calls == []
    finally:
        ex.close()


def test_query_threads_have_a_large_stack_for_deeply_nested_queries(less_slow_kg, stuck_calls):
    """Nesting that overflows pyoxigraph's recursive parser on a usual 8 MiB thread stack (a
    segfault: about 2,200 braces) is parsed on a query thread's QUERY_STACK."""
    import threading

    from server.sparql import runner
    from server.sparql.runner import Runner

    ex = Runner(lambda v: less_slow_kg, size=1, timeout=30, queue_timeout=0.5)
    try:
        depth = 20000
        answer = ex.run(Job(sparql="SELECT * {" + "{" * depth + "}" * depth + "}", version="v1"))
        assert b"bindings" in answer.body
        assert threading.stack_size() == 0  # set for the query threads only
        assert runner.QUERY_STACK >= 256 << 20
    finally:
        ex.close()
