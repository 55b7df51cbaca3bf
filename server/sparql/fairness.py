"""Fair use of the query workers per client: who the client is, and when its query is refused.

*Who*: the direct peer's address, unless that peer is one of TRUSTED_PROXIES (a space-separated
list of addresses or networks, empty by default): then the client is the right-most address of
``X-Forwarded-For`` that is not itself a trusted proxy.  Without the setting the header is
ignored, so that no client can pose as another by sending it.

*When*: a query is heavy once it has run HEAVY_AFTER seconds.  Only then is it counted, and
only then can it be refused: when a query turns heavy while its client already has
MAX_HEAVY_PER_CLIENT heavy queries running, that query is stopped and answered 429.  A client's
quick queries are never refused because of its heavy ones (behind a proxy without
TRUSTED_PROXIES, every client is the proxy's address: this keeps the quick queries of all of
them going).
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from ..kg.errors import KGError


class TooManyHeavyQueries(KGError):
    status = 429
    code = "too-many-heavy-queries"


@lru_cache(maxsize=16)
def parse_trusted_proxies(setting: str) -> tuple:
    """TRUSTED_PROXIES as networks; a KGError naming the bad entry."""
    nets = []
    for item in (setting or "").split():
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise KGError(f"setting TRUSTED_PROXIES: {item!r} is not an IP address or network",
                          status=500, code="bad-setting") from None
    return tuple(nets)


def _trusted(addr: str, nets) -> bool:
    try:
        ip = ipaddress.ip_address(addr.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in n for n in nets)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: str = "") -> str:
    """The address to account a request to (see the module doc)."""
    peer = peer or "-"
    nets = parse_trusted_proxies(trusted_proxies) if trusted_proxies else ()
    if not nets or not forwarded_for or not _trusted(peer, nets):
        return peer
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        try:
            ipaddress.ip_address(hop.strip("[]"))
        except ValueError:
            return peer  # a malformed hop: the header cannot be trusted past it
        if not _trusted(hop, nets):
            return hop
    return peer


def check_turned_heavy(client: str, heavy_running: int, max_heavy: int) -> None:
    """Called when a query of ``client`` passes HEAVY_AFTER, with the number of its other heavy
    queries running: raise TooManyHeavyQueries (429) if that is already ``max_heavy`` (0: no limit)."""
    if max_heavy and heavy_running >= max_heavy:
        raise TooManyHeavyQueries(f"this client already has {heavy_running} long-running queries, so this "
                                  "one was stopped once it became long-running too; wait for them to "
                                  "finish (MAX_HEAVY_PER_CLIENT)", running=heavy_running, maximum=max_heavy)
