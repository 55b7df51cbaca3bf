"""Settings, declared once as data; each is documented in the README (a test checks)."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import KGError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS = (
    Setting("ROOT", ".", "Project folder holding ontology/, data/, shapes/ and queries/."),
    Setting("BUILD_DIR", "build", "Where `econplan build` wrote the store and the dumps."),
    Setting("STORE_URL", "", "An external SPARQL 1.1 store to use instead of the embedded one "
            "(its base URL; oxigraph-style /query, /update). Empty: the embedded store in BUILD_DIR."),
    Setting("STORE_MODE", "memory", "memory: the query workers share one in-memory copy, loaded once by a "
            "template process that forks them (fastest); disk: each worker opens the RocksDB store."),
    Setting("SERVER", "granian", "granian: queries run in threads of the HTTP processes, and a process whose "
            "query passes the time limit is replaced (fastest); gunicorn: queries run in a pool of "
            "query-worker processes behind one HTTP process."),
    Setting("HTTP_THREADS", 4, "SERVER=granian: Python threads per HTTP process (requests handled at once by "
            "each; more wait in granian's queue)."),
    Setting("PIN_CPUS", False, "SERVER=granian: pin each HTTP process, all its threads, to one of the CPUs "
            "the server may use, one process per CPU (the default process count is then the number of "
            "CPUs, at least 2).  A request's hand-offs between threads then stay on one CPU, which on "
            "a virtual machine costs a tenth of a hand-off across CPUs: heavy queries gain 5-9%; but "
            "the kernel can no longer balance the processes against other work on the machine, and "
            "small queries lose 10% (more when their clients run on the same machine).  Off (the "
            "default): the kernel places the threads, and the default is one process more than CPUs."),
    Setting("SCHED_BATCH", True, "SERVER=granian: run the threads of the HTTP processes under Linux's "
            "SCHED_BATCH policy, for throughput: a thread woken (a request handed to it) waits for "
            "the running one's time slice instead of preempting it, so a request costs fewer context "
            "switches.  Interleaved on 2 cores: distinct lookups 1.09-1.11x, the regex scan 1.04x, "
            "the aggregate 1.00-1.03x, p99 no worse.  Off: the default policy (SCHED_OTHER)."),
    Setting("QUERY_WORKERS", 2, "Query threads per HTTP process (SERVER=granian), or query worker processes "
            "(SERVER=gunicorn): how many queries run at once."),
    Setting("EAGER_WORKERS", True, "Start the query workers with the app rather than on the first query."),
    Setting("QUERY_TIMEOUT", 30.0, "Seconds before a query is stopped and answered with 503."),
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
            "(same text, same data version); 0 disables."),
    Setting("MAX_HEAVY_PER_CLIENT", 2, "Queries running longer than HEAVY_AFTER that one client address may have "
            "in flight; more get 429. 0 disables."),
    Setting("TRUSTED_PROXIES", "", "Space-separated addresses or networks of reverse proxies whose "
            "X-Forwarded-For names the client (for MAX_HEAVY_PER_CLIENT); empty: the header is ignored."),
    Setting("HEAVY_AFTER", 1.0, "Seconds after which a running query counts as heavy."),
    Setting("CACHE_SIZE", 512, "Cached query responses (revalidated by the dataset version), and answers "
            "replayed to byte-identical requests (SERVER=granian); 0 disables both."),
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
