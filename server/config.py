"""Settings, declared once as data; each is documented in the README (a test checks)."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .kg.errors import KGError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


def _memory_default() -> int:
    """A quarter of the machine's memory, at most 2 GiB (the QUERY_MEMORY default)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        total = 8 << 30
    return int(min(2 << 30, total // 4))


_DEFAULT_QUERY_MEMORY = _memory_default()

SETTINGS = (
    Setting("ROOT", ".", "Project folder holding ontology/, data/, shapes/ and queries/."),
    Setting("BUILD_DIR", "build", "Where `econplan build` wrote the store and the dumps."),
    Setting("STORE_URL", "", "An external SPARQL 1.1 store to use instead of the embedded one "
            "(its base URL: http:// for oxigraph serve, virtuoso+http://user@host:port, "
            "fuseki+http://host:port/dataset; docs/stores.md). Empty: the embedded store in BUILD_DIR."),
    Setting("STORE_MODE", "memory", "memory: each HTTP worker process answers from an in-memory copy of the "
            "store (loaded once by the main process before it starts the workers, and shared by them "
            "until a write changes it); disk: each opens the RocksDB store (for data larger than memory)."),
    Setting("QUERY_WORKERS", 2, "Query threads per HTTP worker process: how many queries each runs at once."),
    Setting("QUERY_TIMEOUT", 30.0, "Seconds before a query is stopped and answered with 503."),
    Setting("QUERY_MEMORY", _DEFAULT_QUERY_MEMORY, "Bytes of memory the queries running in one HTTP worker "
            "process may take together, over what the process held when they began; past it they are "
            "answered 503 memory-limit and the process is replaced.  0: no limit.  Default: a quarter of "
            "the machine's memory, at most 2 GiB."),
    Setting("QUEUE_TIMEOUT", 10.0, "Seconds a query waits for a free worker before 503 busy."),
    Setting("MAX_ROWS", 10000, "Most result rows (or triples) returned; the response says when it was cut."),
    Setting("STREAM_AFTER", 1_048_576, "Answers larger than this many bytes are streamed (chunked) "
            "instead of being built whole in memory; they are not cached.  HTTP/1.0 clients (no "
            "chunked encoding) get answers up to 8 MiB whole."),
    Setting("MAX_REQUEST_BYTES", 1_000_000, "Largest request body accepted on /sparql (413 above)."),
    Setting("MAX_LOAD_BYTES", 50_000_000, "Largest body accepted on /load and /update (413 above)."),
    Setting("MAX_QUERY_LENGTH", 100_000, "Longest query text, in characters (413 above)."),
    Setting("SERVICE_ALLOWLIST", "", "Space-separated endpoint IRIs (or prefixes ending in /) that SERVICE may call; empty: none."),
    Setting("WRITE_TOKEN", None, "Bearer token for /load and /update; unset: writes are disabled. "
            "Only from the environment (ECONPLAN_WRITE_TOKEN) or the config file."),
    Setting("CORS", True, "Send Access-Control-Allow-Origin: * on the SPARQL endpoint and the APIs."),
    Setting("TIMEOUT_MEMO", 60.0, "Seconds during which a query that hit the time limit is refused at once "
            "(503, same text, same data version) by every worker process: each run past the limit costs "
            "a worker replacement.  0 disables."),
    Setting("MAX_HEAVY_PER_CLIENT", 2, "Queries running longer than HEAVY_AFTER that one client address may have "
            "in flight; more get 429. 0 disables."),
    Setting("TRUSTED_PROXIES", "", "Space-separated addresses or networks of reverse proxies whose "
            "X-Forwarded-For names the client (for MAX_HEAVY_PER_CLIENT); empty: the header is ignored."),
    Setting("HEAVY_AFTER", 1.0, "Seconds after which a running query counts as heavy."),
    Setting("CACHE_SIZE", 512, "Query answers cached per HTTP worker process (keyed by the data version, so "
            "that none outlives a write); 0 disables the cache."),
    Setting("LOAD_TIMEOUT", 600.0, "Seconds a worker process that is being replaced waits for its writes "
            "(loads, updates) in flight to finish before it exits."),
    Setting("LOG_LEVEL", "INFO", "Python logging level."),
)
DEFAULTS = {s.name: s.default for s in SETTINGS}


def _coerce(name: str, value: Any) -> Any:
    default = DEFAULTS[name]
    if value is None or default is None or isinstance(value, type(default)) and not isinstance(value, str):
        return value
    if isinstance(default, bool):
        return str(value).strip().lower() in ("1", "true", "yes", "on")
    try:
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except (TypeError, ValueError):
        raise KGError(f"setting {name}: {value!r} is not a {type(default).__name__}", status=500) from None
    return str(value)


def load_config(overrides: dict | None = None, *, environ=None) -> dict:
    """Defaults < config file (ECONPLAN_CONFIG, TOML) < environment (ECONPLAN_*) < overrides."""
    env = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    path = env.get("ECONPLAN_CONFIG")
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise KGError(f"{path}: cannot read the config file ({exc})", status=500) from None
        for k, v in data.items():
            key = k.upper()
            if key not in DEFAULTS:
                raise KGError(f"{path}: unknown setting {k!r}", status=500)
            config[key] = _coerce(key, v)
    for s in SETTINGS:
        if f"ECONPLAN_{s.name}" in env:
            config[s.name] = _coerce(s.name, env[f"ECONPLAN_{s.name}"])
    for k, v in (overrides or {}).items():
        key = k.upper()
        config[key] = _coerce(key, v) if key in DEFAULTS else v
    return config
