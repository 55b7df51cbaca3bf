"""The build folder: its file names, its version, the change log, the one writer.

``econplan build`` writes a build folder; every other module asks this one for its paths.
What is in it:

``econplan.nq`` (:data:`DUMP`)
    the N-Quads dump: the data as of the last build or compaction.  Its first line is a comment,
    ``# econplan-dump build=<id> folded=<n> quads=<count>``: the build it comes from (the hash of
    what that build wrote), how many records of the change log it holds (all of those numbered
    up to ``n``) and its number of quads.  A dump without that line (written by hand, or by a
    benchmark) is its own build (its hash) and holds no record.
``econplan.changes`` (:data:`LOG`)
    every committed write, one record each, appended and fsynced: the commit point of every load,
    import and update.  It is never shortened: ``econplan build`` replays it over ``data/`` (so a
    build keeps every write), and processes holding the data in memory apply the records they
    lack (so a load is seen without reloading).
``econplan.trig`` (:data:`TRIG`)
    the TriG dump of the same data as the N-Quads dump.
``store/`` and ``store.version`` (:data:`STORE`, :data:`STORE_STAMP`)
    the RocksDB store and the version it holds; :func:`reconcile` brings it up to date (applies
    the records it lacks to a checkpoint of it, or rebuilds it from the dump and the log).
``VERSION``, ``COUNT`` (:data:`HASH_STAMP`, :data:`COUNT`)
    caches of a dump's hash (by its mtime and size) and of its number of quads, for dumps
    without the first line.
``build-manifest.json`` (:data:`MANIFEST`)
    a hash of each named graph that ``data/`` alone gave at the last build (server.kg.writelog).
``.write.lock`` (:data:`LOCK`)
    the lock file of :func:`writer`: one write at a time, across processes and the CLI.

The *version* of the data is the build id, followed by ``+N`` when the log holds records up to
number N (:func:`version_of`): one ``stat`` of each file per call once known, so that every
request can check it.  A compaction (:func:`compact`: the records folded into a new dump) leaves
the version as it is; a build changes it.

A record is framed as ``EPC2``, the payload's length (4 bytes), the record's number (8 bytes) and
a CRC-32 of the number and the payload (4 bytes; all big-endian), then the payload: one line of
JSON (``op``: ``load``, ``replace`` or ``update``; the byte sizes and counts of the parts that
follow; ``graphs`` a replacing load emptied; ``base``, the base IRI of an update; ``delta``, the
change in the number of quads), the removed quads and the added quads (N-Quads), then the text
of an update.  Processes apply the removed and the added quads; a build replays the operation
(a load's quads, a replacement of graphs, the update's text).  A record cut short by a crash (a
torn tail) fails its length or checksum: it was never committed, readers stop before it and the
next write cuts it off.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import struct
import tempfile
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import DataError, KGError

DUMP = "econplan.nq"
TRIG = "econplan.trig"
STORE = "store"
STORE_STAMP = "store.version"
LOG = "econplan.changes"
HASH_STAMP = "VERSION"
COUNT = "COUNT"
MANIFEST = "build-manifest.json"
LOCK = ".write.lock"
#: the dumps offered for download, with their media types
DUMPS = {TRIG: "application/trig", DUMP: "application/n-quads"}
#: what a write, a compaction or a build makes in the folder and removes when it ends, unless killed
LEFTOVERS = (f".{DUMP}.*", ".append-*", ".reconcile-*", ".store-old", f".{LOG}.*", ".build-*", f".{STORE_STAMP}.tmp")

_MAGIC = b"EPC2"
_FRAME = struct.Struct(">4sIQI")
_LOG_HEADER = b"econplan-changes 2\n"
_DUMP_HEADER = "# econplan-dump "


def path(build_dir, name: str) -> Path:
    return Path(build_dir) / name


def dump(build_dir) -> Path:
    return Path(build_dir) / DUMP


def trig(build_dir) -> Path:
    return Path(build_dir) / TRIG


def store_dir(build_dir) -> Path:
    return Path(build_dir) / STORE


def log_path(build_dir) -> Path:
    return Path(build_dir) / LOG


def is_built(build_dir) -> bool:
    return dump(build_dir).exists()


def _key(p) -> tuple | None:
    try:
        st = os.stat(p)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _fsync_dir(d) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the dump ---------------------------------------------------------------------------------

@dataclass
class DumpInfo:
    key: tuple
    build: str  # the build id
    folded: int  # the number of the last record the dump holds (0: none)
    quads: int | None  # its number of quads, when known


_DUMPS: dict = {}  # dump path -> DumpInfo


def dump_header(build: str, folded: int, quads: int) -> bytes:
    return f"{_DUMP_HEADER}build={build} folded={folded} quads={quads}\n".encode()


def dump_info(build_dir) -> DumpInfo | None:
    """What the dump's first line says (cached by its stat key), or None without a dump."""
    d = str(dump(build_dir))
    key = _key(d)
    if key is None:
        return None
    known = _DUMPS.get(d)
    if known is not None and known.key == key:
        return known
    try:
        with open(d, "rb") as fh:
            first = fh.readline(512)
    except FileNotFoundError:
        return None
    info = None
    if first.startswith(_DUMP_HEADER.encode()) and first.endswith(b"\n"):
        try:
            fields = dict(part.split("=", 1) for part in first.decode()[len(_DUMP_HEADER):].split())
            info = DumpInfo(key, fields["build"], int(fields["folded"]), int(fields["quads"]))
        except (ValueError, KeyError):
            info = None
    if info is None:
        info = DumpInfo(key, _file_hash(build_dir, key), 0, _counted(build_dir, key))
    _DUMPS[d] = info
    return info


def _file_hash(build_dir, key) -> str:
    """The hash of a dump without a first line (cached in the VERSION file by mtime and size)."""
    stamp = path(build_dir, HASH_STAMP)
    try:
        cached = stamp.read_text().split()
        if len(cached) == 2 and cached[0] == f"{key[1]}:{key[2]}":
            return cached[1]
    except OSError:
        pass
    with open(dump(build_dir), "rb") as fh:  # streamed: the dump of a big store is gigabytes
        digest = hashlib.file_digest(fh, "sha256").hexdigest()[:16]
    try:
        stamp.write_text(f"{key[1]}:{key[2]} {digest}\n")
    except OSError:
        pass
    return digest


def _counted(build_dir, key) -> int | None:
    try:
        cached = path(build_dir, COUNT).read_text().split()
        if len(cached) == 2 and cached[0] == f"{key[1]}:{key[2]}":
            return int(cached[1])
    except (OSError, ValueError):
        pass
    return None


def set_count(build_dir, n: int) -> None:
    """Record that a dump without a first line holds ``n`` quads (no count of a big store later)."""
    key = _key(dump(build_dir))
    tmp = path(build_dir, f".{COUNT}.tmp")
    tmp.write_text(f"{key[1]}:{key[2]} {n}\n")
    os.replace(tmp, path(build_dir, COUNT))
    _DUMPS.pop(str(dump(build_dir)), None)


def write_dump(quads, target: Path, *, folded: int = 0, build: str | None = None) -> str:
    """Write ``quads`` as a dump with its first line to ``target`` (fsynced); returns the build
    id: ``build``, or the hash of the quads as written."""
    quads = list(quads)
    body = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    build = build or hashlib.sha256(body).hexdigest()[:16]
    with open(target, "wb") as fh:
        fh.write(dump_header(build, folded, len(quads)))
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    return build


def write_trig(quads, target: Path) -> None:
    from . import vocab as V

    Path(target).write_bytes(ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=V.PREFIXES) or b"")


# -- the change log ---------------------------------------------------------------------------

@dataclass
class Record:
    seq: int
    op: str
    removed: list = field(default_factory=list)
    added: list = field(default_factory=list)
    text: str | None = None
    base: str | None = None
    graphs: list = field(default_factory=list)
    delta: int = 0


@dataclass
class _LogIndex:
    key: tuple
    frames: list  # (seq, payload start, payload end) of each valid record
    end: int  # end of the last valid record (or of the header); a torn tail starts here
    checked_from: int  # records numbered above this had their checksum verified


_LOGS: dict = {}  # log path -> _LogIndex


def _read_log(log: Path, known: _LogIndex | None, trust_upto: int) -> _LogIndex | None:
    key = _key(log)
    if key is None:
        return None
    if known is not None and known.key == key:
        return known
    with open(log, "rb") as fh:
        if known is not None and known.key[0] == key[0] and key[2] >= known.end:
            frames, pos = list(known.frames), known.end  # appended since: read on from there
        else:
            if fh.read(len(_LOG_HEADER)) != _LOG_HEADER:
                return _LogIndex(key, [], 0, 0)
            frames, pos = [], len(_LOG_HEADER)
        fh.seek(pos)
        while True:
            head = fh.read(_FRAME.size)
            if len(head) < _FRAME.size:
                break
            magic, length, seq, crc = _FRAME.unpack(head)
            if magic != _MAGIC or (frames and seq <= frames[-1][0]):
                break
            start = pos + _FRAME.size
            if seq > trust_upto:  # not folded into a dump yet: check it (a torn tail fails here)
                payload = fh.read(length)
                if len(payload) < length or zlib.crc32(payload, zlib.crc32(head[8:16])) != crc:
                    break
            else:  # folded into the dump: committed long ago
                if start + length > key[2]:
                    break
                fh.seek(start + length)
            frames.append((seq, start, start + length))
            pos = start + length
    return _LogIndex(key, frames, pos, trust_upto)


def _log_index(build_dir, trust_upto: int = 0) -> _LogIndex | None:
    log = log_path(build_dir)
    known = _LOGS.get(str(log))
    if known is not None and known.checked_from > trust_upto:
        known = None  # read again, checking more
    idx = _read_log(log, known, trust_upto)
    if idx is None:
        _LOGS.pop(str(log), None)
    else:
        _LOGS[str(log)] = idx
    return idx


def last_seq(build_dir) -> int:
    """The number of the last committed record (0: none): the log's, or the dump's if higher."""
    info = dump_info(build_dir)
    folded = info.folded if info else 0
    idx = _log_index(build_dir, folded)
    top = idx.frames[-1][0] if idx is not None and idx.frames else 0
    return max(top, folded)


_VERSIONS: dict = {}  # build folder -> (dump path, log path, dump key, log key, version)


def version_of(build_dir) -> str:
    """The version of the data: the build id, ``+N`` when records up to number N are committed.
    Once known, a call costs a ``stat`` of the dump and one of the log (every request makes one)."""
    known = _VERSIONS.get(build_dir)
    if known is None:  # (joining the paths costs as much as a stat: done once per folder)
        known = (os.path.join(build_dir, DUMP), os.path.join(build_dir, LOG), None, None, "0")
    d, log, dkey, lkey, version = known
    try:
        st = os.stat(d)
    except FileNotFoundError:
        return "0"
    try:
        lt = os.stat(log)
        now_l = (lt.st_ino, lt.st_mtime_ns, lt.st_size)
    except FileNotFoundError:
        now_l = None
    now_d = (st.st_ino, st.st_mtime_ns, st.st_size)
    if now_d == dkey and now_l == lkey:
        return version
    info = dump_info(build_dir)
    if info is None:
        return "0"
    n = last_seq(build_dir)
    version = f"{info.build}+{n}" if n else info.build
    _VERSIONS[build_dir] = (d, log, info.key, _key(log), version)
    return version


def split_version(version: str) -> tuple[str, int]:
    build, _, n = version.partition("+")
    return build, int(n or 0)


def pending(build_dir) -> int:
    """How many committed records the dump does not hold yet."""
    info = dump_info(build_dir)
    if info is None:
        return 0
    idx = _log_index(build_dir, info.folded)
    return sum(1 for f in idx.frames if f[0] > info.folded) if idx is not None else 0


def records(build_dir, after: int, upto: int | None = None) -> list[Record] | None:
    """The records numbered after ``after`` up to ``upto`` (all: None), or None when the log
    lacks some of them (it was removed or replaced)."""
    info = dump_info(build_dir)
    idx = _log_index(build_dir, info.folded if info else 0)
    frames = [f for f in (idx.frames if idx is not None else [])
              if f[0] > after and (upto is None or f[0] <= upto)]
    want = None if upto is None else upto - after
    if want is not None and (len(frames) != want or (frames and frames[0][0] != after + 1)):
        return None
    out = []
    if not frames:
        return out
    with open(log_path(build_dir), "rb") as fh:
        for seq, a, b in frames:
            fh.seek(a)
            out.append(decode(seq, fh.read(b - a)))
    return out


def all_records(build_dir) -> list[Record]:
    """Every record of the log, checked, in order (what ``econplan build`` replays)."""
    idx = _log_index(build_dir, 0)
    if idx is None or not idx.frames:
        return []
    return records(build_dir, 0) or []


def encode(rec: Record) -> bytes:
    def nq(quads):
        return (ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS) or b"") if quads else b""

    rem, add, text = nq(rec.removed), nq(rec.added), (rec.text or "").encode("utf-8")
    head = {"op": rec.op, "removed": [len(rem), len(rec.removed)], "added": [len(add), len(rec.added)],
            "text": len(text), "delta": rec.delta}
    if rec.base:
        head["base"] = rec.base
    if rec.graphs:
        head["graphs"] = [g.value for g in rec.graphs]
    return json.dumps(head, ensure_ascii=False).encode() + b"\n" + rem + add + text


def _head(payload: bytes) -> dict:
    return json.loads(payload[:payload.index(b"\n")])


def decode(seq: int, payload: bytes) -> Record:
    nl = payload.index(b"\n")
    head = json.loads(payload[:nl])
    a = nl + 1
    b = a + head["removed"][0]
    c = b + head["added"][0]
    parse = lambda raw: list(ox.parse(raw, format=ox.RdfFormat.N_QUADS)) if raw else []  # noqa: E731
    return Record(seq, head["op"], parse(payload[a:b]), parse(payload[b:c]),
                  payload[c:c + head["text"]].decode("utf-8") if head["text"] else None,
                  head.get("base"), [ox.NamedNode(g) for g in head.get("graphs", [])], head.get("delta", 0))


def apply(store: ox.Store, recs) -> None:
    """Apply records to a store: each one's removed quads, then its added quads."""
    for rec in recs:
        for q in rec.removed:
            store.remove(q)
        if rec.added:
            store.extend(rec.added)


def triples(build_dir, base: ox.Store) -> int:
    """How many quads the data at the current version holds: the dump's count plus what the
    records beyond it changed (``len(base)``, counted once, when the dump has no count)."""
    info = dump_info(build_dir)
    if info is None or info.quads is None:
        n = len(base)
        if info is not None and last_seq(build_dir) == 0:
            set_count(build_dir, n)
        return n
    idx = _log_index(build_dir, info.folded)
    delta = 0
    if idx is not None:
        with open(log_path(build_dir), "rb") as fh:
            for seq, a, _ in idx.frames:
                if seq > info.folded:
                    fh.seek(a)
                    delta += json.loads(fh.readline()).get("delta", 0)
    return info.quads + delta


# -- the one writer ---------------------------------------------------------------------------

@contextmanager
def locked(lock_file, timeout: float = 60.0):
    """Hold an exclusive lock on ``lock_file`` (409 after ``timeout`` seconds of waiting)."""
    with open(lock_file, "a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise KGError("another write is in progress; try again later", status=409) from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def writer(build_dir, timeout: float = 60.0):
    """Hold the build folder's write lock (409 after ``timeout`` seconds of waiting)."""
    Path(build_dir).mkdir(parents=True, exist_ok=True)
    with locked(path(build_dir, LOCK), timeout):
        remove_leftovers(build_dir)
        yield


def remove_leftovers(build_dir) -> None:
    """Remove what an interrupted write left behind (the caller holds the write lock)."""
    for pattern in LEFTOVERS:
        for p in Path(build_dir).glob(pattern):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def commit(build_dir, rec: Record) -> str:
    """Append one record (the caller holds :func:`writer`): the commit point of a write.
    Returns the new version."""
    build_dir = Path(build_dir)
    info = dump_info(build_dir)
    idx = _log_index(build_dir, info.folded)
    log = log_path(build_dir)
    if idx is None or idx.end == 0:  # no log, or not one: a new one (an old file is kept aside)
        if idx is not None and idx.key[2] > 0:
            os.replace(log, path(build_dir, f"{LOG}.unreadable-{int(time.time())}"))
        with open(log, "wb") as fh:
            fh.write(_LOG_HEADER)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(build_dir)
        idx = _log_index(build_dir, info.folded)
    seq = max(idx.frames[-1][0] if idx.frames else 0, info.folded) + 1
    payload = encode(rec)
    seq_bytes = struct.pack(">Q", seq)
    frame = _FRAME.pack(_MAGIC, len(payload), seq, zlib.crc32(payload, zlib.crc32(seq_bytes))) + payload
    with open(log, "r+b") as fh:
        fh.truncate(idx.end)  # a torn tail (never committed) goes
        fh.seek(idx.end)
        fh.write(frame)
        fh.flush()
        os.fsync(fh.fileno())  # <- commit point
    return version_of(build_dir)


def replace_dump(build_dir, write) -> None:
    """What ``write(file)`` writes, fsynced, renamed over the dump (kept file mode)."""
    build_dir = Path(build_dir)
    fd, tmp = tempfile.mkstemp(prefix=f".{DUMP}.", dir=build_dir)
    try:
        try:  # the new dump keeps the old one's permissions (mkstemp makes it 0600)
            os.fchmod(fd, os.stat(dump(build_dir)).st_mode & 0o7777)
        except FileNotFoundError:
            os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dump(build_dir))
        _fsync_dir(build_dir)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def dump_quads(build_dir) -> list[ox.Quad]:
    """The dump's quads as written (blank-node labels kept)."""
    return list(ox.parse(path=str(dump(build_dir)), format=ox.RdfFormat.N_QUADS))


def current_quads(build_dir) -> list[ox.Quad]:
    """The committed content: the dump with the records beyond it applied.  Every quad of the dump
    that is still there is kept as written (a store keeps a literal's value, not its text:
    "19.0" of xsd:decimal would come back as "19"), then the quads the records added, in order."""
    build_dir = Path(build_dir)
    info = dump_info(build_dir)
    written = dump_quads(build_dir)
    recs = records(build_dir, info.folded) or []
    if not recs:
        return written
    store = ox.Store()
    store.bulk_extend(written)
    apply(store, recs)
    kept = [q for q in written if q in store]
    seen = ox.Store()
    seen.bulk_extend(kept)
    extra = {}
    for rec in recs:
        for q in rec.added:
            if q in store and q not in seen:
                extra[q] = None
    return kept + list(extra)


def compact(build_dir) -> dict:
    """Fold the records the dump lacks into it (the caller holds :func:`writer`): a new dump with
    the same content as dump plus log replaces the old one (the commit point; the version does not
    change), then the TriG dump is rewritten.  The log stays as it is (builds replay it)."""
    from .build import sort_quads

    build_dir = Path(build_dir)
    n = pending(build_dir)
    version = version_of(build_dir)
    if n == 0:
        return {"records": 0, "version": version}
    info = dump_info(build_dir)
    top = last_seq(build_dir)
    quads = current_quads(build_dir)
    replace_dump(build_dir, lambda fh: (fh.write(dump_header(info.build, top, len(quads))),
                                        fh.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")))
    tmp = Path(tempfile.mkdtemp(prefix=".reconcile-", dir=build_dir))
    try:
        write_trig(sort_quads(quads), tmp / TRIG)
        os.replace(tmp / TRIG, trig(build_dir))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"records": n, "version": version_of(build_dir), "triples": len(quads)}


# -- the RocksDB store ------------------------------------------------------------------------

def store_version(build_dir) -> str | None:
    """The version the RocksDB store holds (its stamp)."""
    try:
        return path(build_dir, STORE_STAMP).read_text().strip()
    except OSError:
        return None


def _set_stamp(build_dir, version: str) -> None:
    tmp = path(build_dir, f".{STORE_STAMP}.tmp")
    tmp.write_text(version + "\n")
    os.replace(tmp, path(build_dir, STORE_STAMP))  # a new file: never half written


def store_is_current(build_dir) -> bool:
    return store_version(build_dir) == version_of(build_dir) and store_dir(build_dir).exists()


def reconcile(build_dir, *, locked: bool = False) -> bool:
    """Bring the RocksDB store up to the current version: apply the records it lacks to a
    checkpoint of it (hard links) swapped in, or rebuild it from the dump and the log.  Cheap
    when it is current; returns True if it changed the store.  Takes the write lock unless
    ``locked`` (the caller holds it)."""
    build_dir = Path(build_dir)
    if store_is_current(build_dir):
        return False
    if not locked:
        with writer(build_dir):
            return reconcile(build_dir, locked=True)
    version = version_of(build_dir)
    build, n = split_version(version)
    s_build, s_n = split_version(store_version(build_dir) or "")
    recs = records(build_dir, s_n, n) if s_build == build and s_n <= n and store_dir(build_dir).exists() else None
    if recs is None:
        _rebuild(build_dir)
        return True
    def from_checkpoint(tmp: Path):
        old = ox.Store.read_only(str(store_dir(build_dir)))
        old.backup(str(tmp / STORE))
        del old
        store = ox.Store(str(tmp / STORE))
        apply(store, recs)
        return store

    _new_store(build_dir, version, ".append-", from_checkpoint)
    return True


def _rebuild(build_dir: Path) -> None:
    version = version_of(build_dir)
    info = dump_info(build_dir)

    def from_dump(tmp: Path):
        store = ox.Store(str(tmp / STORE))
        store.bulk_extend(dump_quads(build_dir))  # (bulk_load would rename the blank nodes)
        apply(store, records(build_dir, info.folded, split_version(version)[1]) or [])
        return store

    _new_store(build_dir, version, ".reconcile-", from_dump)


def _new_store(build_dir: Path, version: str, prefix: str, make) -> None:
    """Make a store in a temporary folder (``make(tmp)`` returns it), swap it in, stamp it."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=build_dir))
    try:
        store = make(tmp)
        store.flush()
        del store
        _swap_store(build_dir, tmp / STORE)
        _set_stamp(build_dir, version)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_store(build_dir: Path, fresh: Path) -> None:
    old = store_dir(build_dir)
    trash = path(build_dir, ".store-old")
    shutil.rmtree(trash, ignore_errors=True)
    if old.exists():
        old.rename(trash)
    fresh.rename(old)
    shutil.rmtree(trash, ignore_errors=True)


def install_build(tmp: Path, out: Path) -> None:
    """Move a fresh build (``tmp`` holds the dumps, written with :func:`write_dump`, and the
    store) into ``out``: the TriG dump, then the N-Quads dump (the commit point of a build), then
    the store and its stamp.  Used by ``econplan build``; the caller holds :func:`writer`."""
    os.replace(tmp / TRIG, trig(out))
    os.replace(tmp / DUMP, dump(out))
    _fsync_dir(out)
    _swap_store(out, tmp / STORE)
    _set_stamp(out, version_of(out))


def check_log(build_dir) -> None:
    """A DataError when the log has records that cannot be read back (the build would lose them)."""
    idx = _log_index(build_dir, 0)
    if idx is None:
        return
    size = idx.key[2]
    if idx.end == 0 and size:
        raise DataError(f"{log_path(build_dir)}: not a change log; move it away to build without it")
