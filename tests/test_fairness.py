"""Per-client accounting of heavy queries (server.sparql.fairness): the client behind a trusted
proxy, and only a query that turns heavy is refused."""
from __future__ import annotations

import concurrent.futures
import time
import urllib.parse

import pytest

from conftest import LiveServer
from server.kg.errors import KGError
from server.sparql.fairness import check_turned_heavy, client_address
from test_endpoint import http


def test_forwarded_for_counts_only_from_a_trusted_proxy():
    assert client_address("10.0.0.2", "203.0.113.5", "") == "10.0.0.2"  # off by default
    assert client_address("10.0.0.2", "203.0.113.5", "127.0.0.1") == "10.0.0.2"  # not a proxy of ours
    assert client_address("127.0.0.1", "203.0.113.5", "127.0.0.1") == "203.0.113.5"
    # a client's own X-Forwarded-For entries come first; the proxy appends the real one
    assert client_address("127.0.0.1", "1.2.3.4, 203.0.113.5", "127.0.0.1") == "203.0.113.5"
    assert client_address("10.1.2.3", "203.0.113.5, 10.1.0.9", "10.1.0.0/16") == "203.0.113.5"
    assert client_address("127.0.0.1", "not-an-address", "127.0.0.1") == "127.0.0.1"
    assert client_address("127.0.0.1", None, "127.0.0.1") == "127.0.0.1"
    assert client_address("::1", "2001:db8::7", "::1") == "2001:db8::7"
    with pytest.raises(KGError):
        client_address("127.0.0.1", "1.2.3.4", "not-a-network")


def test_only_a_query_turning_heavy_past_the_limit_is_refused():
    check_turned_heavy("c", 0, 2)
    check_turned_heavy("c", 1, 2)
    check_turned_heavy("c", 9, 0)  # 0: no limit
    with pytest.raises(KGError) as e:
        check_turned_heavy("c", 2, 2)
    assert e.value.status == 429 and "MAX_HEAVY_PER_CLIENT" in e.value.message


SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } LIMIT %d"
QUICK = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?c } LIMIT %d"


@pytest.fixture(scope="module")
def proxied(built):
    s = LiveServer(built, env={"ECONPLAN_TRUSTED_PROXIES": "127.0.0.1", "ECONPLAN_MAX_HEAVY_PER_CLIENT": "1",
                               "ECONPLAN_QUERY_TIMEOUT": "2.5", "ECONPLAN_TIMEOUT_MEMO": "0",
                               "ECONPLAN_QUERY_WORKERS": "4"}, workers=1)
    yield s
    s.stop()


def get(server, query, client):
    return http(server.url + "/sparql?" + urllib.parse.urlencode({"query": query}),
                headers={"X-Forwarded-For": client, "Accept": "text/csv"})


def test_clients_behind_a_trusted_proxy_are_told_apart_and_quick_queries_pass(proxied):
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        a1 = pool.submit(get, proxied, SLOW % 1, "203.0.113.5")
        time.sleep(0.3)
        a2 = pool.submit(get, proxied, SLOW % 2, "203.0.113.5")  # turns heavy while a1 is: 429
        b1 = pool.submit(get, proxied, SLOW % 3, "203.0.113.6")  # another client: not refused
        time.sleep(1.2)
        for k in range(3):  # a's quick queries are answered while its heavy one runs
            status, _, body = get(proxied, QUICK % (k + 1), "203.0.113.5")
            assert status == 200, body
        # one of client a's two heavy queries is refused (the later to turn heavy: a2, unless a
        # busy machine started a1 late), the other and b's run to the time limit
        answers = sorted([a1.result(), a2.result()], key=lambda r: r[0])
        assert [r[0] for r in answers] == [429, 503] and b"MAX_HEAVY_PER_CLIENT" in answers[0][2]
        assert b1.result()[0] == 503
