"""The ``econplan`` command line: build, export, query, validate, load, serve.

Only this module knows click.  Every core error (KGError) becomes a one-line
``error: …`` on stderr and a non-zero exit; there are no tracebacks.
"""
from __future__ import annotations

import functools
import sys
import urllib.parse
from pathlib import Path

import click

from .kg.errors import KGError

ROOT_HELP = "Project folder holding ontology/, data/ and shapes/ (default: the current folder)."


def _fail(exc: KGError, code: int = 1):
    click.echo(f"error: {exc.message}", err=True)
    sys.exit(code)


def closed_pipe():
    """The reader of our output went away (``econplan passages | head``): end quietly, as `cat`
    does, with the status of a process ended by SIGPIPE. Standard output is pointed at /dev/null
    so that Python's final flush does not complain either."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    os._exit(141)


def handle_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BrokenPipeError:
            closed_pipe()
        except KGError as exc:
            _fail(exc, 2 if getattr(fn, "_exit_could_not_run", False) else 1)
        except OSError as exc:
            click.echo(f"error: {exc.filename or ''}: {exc.strerror or exc}", err=True)
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: say so in one line; ECONPLAN_DEBUG=1 shows the traceback
            import os

            if os.environ.get("ECONPLAN_DEBUG"):
                raise
            click.echo(f"error: internal error ({type(exc).__name__}: {exc}); "
                       "set ECONPLAN_DEBUG=1 for the traceback", err=True)
            sys.exit(2)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help=ROOT_HELP)
@click.option("--build-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the store and dumps live (default: ROOT/build).")
@click.option("--store", "store_url", default=None, envvar="ECONPLAN_STORE_URL",
              help="Use an external SPARQL 1.1 store (its base URL, oxigraph-style /query and /update) "
                   "instead of the embedded one.")
@click.pass_context
def cli(ctx, root: Path, build_dir: Path | None, store_url: str | None):
    """econplan: the city development-plan knowledge graph."""
    build_dir = build_dir or root / "build"
    ctx.obj = {"root": root, "build_dir": build_dir, "store": store_url or None,
               "target": store_url or build_dir}


@cli.command()
@click.option("--force", is_flag=True, help="Build even if the store holds data the build would "
              "not reproduce (that data is discarded).")
@click.pass_obj
@handle_errors
def build(obj, force: bool):
    """Build the store and the TriG/N-Quads dumps from ontology/, data/ and shapes/, then replay
    the logged writes (loads, imports, updates in the change log BUILD_DIR/econplan.changes)."""
    from .kg.build import build as do_build

    counts = do_build(obj["root"], obj["build_dir"], force=force)
    for graph, n in counts.items():
        click.echo(f"{n:>7}  {graph}")
    click.echo(f"{sum(counts.values()):>7}  triples in {len(counts)} graphs -> {obj['build_dir']}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["trig", "nquads", "turtle", "jsonld", "csvw"]),
              default="trig", show_default=True)
@click.option("--graph", "graph", default=None, help="Export only this named graph (IRI).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write here instead of standard output (for csvw: a folder, default ./csvw).")
@click.pass_obj
@handle_errors
def export(obj, fmt: str, graph: str | None, output: Path | None):
    """Write the graph (or one named graph) as TriG, N-Quads, Turtle or JSON-LD."""
    from .kg.export import export_graph

    if fmt == "csvw":  # the facts as CSV plus CSV on the Web metadata
        from .kg.tables import export_csvw

        for path in export_csvw(_kg(obj), output or Path("csvw")):
            click.echo(f"wrote {path}")
        return

    data = export_graph(_kg(obj), fmt, graph)
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


@cli.command()
@click.argument("sparql")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "tsv"]),
              default="table", show_default=True)
@click.pass_obj
@handle_errors
def query(obj, sparql: str, fmt: str):
    """Run a SPARQL query against the built store (use @FILE to read it from a file)."""
    from .kg.export import render_result

    if sparql.startswith("@"):
        sparql = Path(sparql[1:]).read_text(encoding="utf-8")
    try:
        result = _kg(obj).query(sparql)
    except KGError:
        if "\u2026" in sparql:  # 'SELECT …' copied from a description, not a query
            raise KGError("the query contains '…' (an ellipsis): write the whole query, e.g. "
                          "'SELECT ?label WHERE { indicator:gdp skos:prefLabel ?label }'", status=400) from None
        raise
    out = render_result(result, fmt)
    if isinstance(out, str):
        out = out.encode("utf-8")
    if out and not out.endswith(b"\n"):  # every format ends its last line
        out += b"\n"
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="HTTP worker processes (default: one per CPU core, at least 2).")
@click.option("--dev", is_flag=True, help="Use Flask's development server (reloader off).")
@click.option("--get", "get_path", default=None,
              help="Do not serve: print the response to GET PATH and exit (a smoke test).")
@click.pass_obj
@handle_errors
def serve(obj, host: str, port: int, workers: int | None, dev: bool, get_path: str | None):
    """Serve the web app, the SPARQL endpoint and the saved queries."""
    from . import create_app
    from .config import load_config

    config = load_config({"BUILD_DIR": str(obj["build_dir"]), "ROOT": str(obj["root"]),
                          **({"STORE_URL": obj["store"]} if obj["store"] else {})})
    if get_path or dev:
        app = create_app(config)
    if get_path:
        client = app.test_client()
        resp = client.get(get_path)
        sys.stdout.buffer.write(resp.get_data())
        sys.exit(0 if resp.status_code < 400 else 1)
    if dev:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
        return
    from .serve import run

    run(config, host=host, port=port, workers=workers)  # None: the server's own default


@cli.command()
@click.pass_obj
@handle_errors
def passages(obj):
    """List every sentence with its id and the number-with-unit mentions in it."""
    from .kg.curation import main as curation_main

    sys.exit(curation_main(["passages", str(obj["root"] / "data")]))


@cli.command()
@click.option("--check", is_flag=True, help="Only check that the committed cleaned text is current.")
@click.pass_obj
@handle_errors
def clean(obj, check: bool):
    """Re-create data/source/report-clean.txt from the raw scraped page."""
    from .kg.source import clean as do_clean

    src = obj["root"] / "data" / "source"
    text = do_clean((src / "report-raw.txt").read_text(encoding="utf-8"))
    target = src / "report-clean.txt"
    if check:
        if target.read_text(encoding="utf-8") != text:
            click.echo(f"error: {target} is out of date; run `econplan clean`", err=True)
            sys.exit(1)
        click.echo(f"ok: {target} is clean(report-raw.txt)")
        return
    target.write_text(text, encoding="utf-8", newline="")
    click.echo(f"wrote {target} ({len(text)} characters)")


@cli.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--graph", default=None, help="Named graph for triples (files without graphs).")
@click.option("--replace", is_flag=True, help="Replace the graph(s) instead of adding to them.")
@click.option("--engine", type=click.Choice(["turbo", "pyshacl"]), default="turbo", show_default=True,
              help="SHACL engine used for the gate.")
@click.option("--format", "fmt", type=click.Choice(["text", "table", "json", "turtle"]), default="text",
              show_default=True, help="How to print the report of a rejected load.")
@click.pass_obj
@handle_errors
def load_cmd(obj, files, graph, replace, engine, fmt):
    """Validate FILES together with the store and commit them atomically, or reject them.

    Exit codes: 0 loaded, 1 rejected by the shapes (nothing changed), 2 could not run.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .kg.errors import ValidationFailed
    from .kg.loading import parse_file
    from .kg.writes import load

    quads = []
    for f in files:
        quads.extend(parse_file(f))
    from .kg.citycsv import Lookups
    from .kg.datacube import convert

    # Data Cube observations become facts (or the load is refused, saying why)
    quads = convert(quads, lambda: Lookups.from_store(_kg(obj), obj["root"] / "data"), files[0].name,
                    __import__("pyoxigraph").NamedNode(graph) if graph else None)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("staging", total=len(quads))
        try:
            result = load(obj["target"], quads, graph=graph, replace=replace, engine=engine,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
        except ValidationFailed as exc:
            bar.stop()
            click.echo(f"rejected: {exc.message}", err=True)
            from .kg.validation import for_files

            click.echo(_render_report(for_files(exc.report, [Path(f).name for f in files]), fmt))
            sys.exit(1)
    click.echo(f"loaded: +{result.added} -{result.removed} triples, {result.triples} in the store "
               f"(version {result.version}, {result.seconds:.2f} s)")


@cli.command("import-csv")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="The YAML mapping (default: FILE's stem + .mapping.yaml).")
@click.option("--graph", default=None, help="Named graph (default: derived from the file name).")
@click.option("--format", "fmt", type=click.Choice(["text", "table", "json", "turtle"]), default="text",
              show_default=True, help="How to print the report of a rejected import.")
@click.pass_obj
@handle_errors
def import_csv(obj, file: Path, mapping_path: Path | None, graph: str | None, fmt: str):
    """Import another city's CSV through its mapping and the SHACL gate; all rows or none."""
    from .kg import vocab as V
    from .kg.citycsv import SOURCE_BASE, Lookups, csv_to_quads, file_key, mapping_for, read_mapping
    from .kg.errors import ValidationFailed
    from .kg.writes import load

    mapping = read_mapping(mapping_path or mapping_for(file))
    # the dataset is the mapping's; the file's path tells two files of the same name apart
    slug, key = mapping["dataset"]["slug"], file_key(file, salt=str(file.resolve()))
    graph = graph or f"{V.GRAPH}import/{slug}/{key}"
    quads = csv_to_quads(file, mapping, Lookups.from_store(_kg(obj), obj["root"] / "data"), __import__("pyoxigraph").NamedNode(graph),
                         file_iri=f"{SOURCE_BASE}import/{slug}/{key}/{urllib.parse.quote(file.name)}",
                         base=f"{V.ID}import/{slug}", key=key)
    try:
        result = load(obj["target"], quads, graph=graph, replace=True)
    except ValidationFailed as exc:
        _rejected(exc, fmt)
    click.echo(f"imported {file}: +{result.added} -{result.removed} triples into <{graph}> "
               f"({result.triples} in the store)")


@cli.command("import-table")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--year", default=None, help="The year of every figure (when the table does not say).")
@click.option("--status", type=click.Choice(["actual", "target", "expected"]), default=None,
              help="The status of every figure (default actual).")
@click.option("--source", default=None, help="The URL the table was published at (stored as an IRI).")
@click.option("--area", default=None, help="The GB/T 2260 code of the area the table is about: a one-area "
              "table's area, its total row's (全市), or the city whose districts its rows name (which "
              "picks among areas of one name, 鼓楼区).")
@click.option("--vintage", default=None, help="Which release the figures are (preliminary, revised, final, estimate, or a release date).")
@click.option("--dataset", default=None, help="The dataset name (default: from the file name).")
@click.option("--sheet", default=None, help="The sheet of an .xlsx workbook: its name or number (default: the first).")
@click.option("--replace", is_flag=True, help="Replace an earlier import with the same dataset name.")
@click.option("--format", "fmt", type=click.Choice(["text", "table", "json", "turtle"]), default="text",
              show_default=True, help="How to print the report of a rejected import.")
@click.pass_obj
@handle_errors
def import_table(obj, file: Path, year, status, source, area, vintage, dataset, sheet, replace, fmt):
    """Import a table as published (CSV, .xlsx, CSVW) into data/<area>/<dataset>/ and the store; all or nothing."""
    from .kg.errors import ValidationFailed
    from .kg.tables import Fixed, import_table as run

    from .kg import builddir

    if not obj["store"] and not builddir.is_built(obj["build_dir"]):
        raise KGError(f"{obj['build_dir']}: no build here to import into; run `econplan build` first "
                      "(or give --build-dir)", status=400)
    try:
        r = run(obj["root"], obj["target"], file, Fixed(year, status, source, area, vintage, sheet),
                dataset=dataset, replace=replace)
    except ValidationFailed as exc:
        _rejected(exc, fmt, "; data/ was not changed")
    click.echo(f"imported {len(r.rows)} figures from {file}: +{r.added} -{r.removed} triples into <{r.graph}> "
               f"({r.triples} in the store); wrote {', '.join(str(f) for f in r.files)}")


def _rejected(exc, fmt: str, more: str = "") -> None:
    """A load or import the shapes rejected: the one-line reason, the report, exit status 1."""
    click.echo(f"rejected: {exc.message}{more}", err=True)
    click.echo(_render_report(exc.report, fmt))
    sys.exit(1)


def _render_report(report, fmt: str) -> str:
    return {"text": report.as_text, "table": report.as_table, "json": report.as_json,
            "turtle": report.as_turtle}[fmt]()


@cli.command()
@click.pass_obj
@handle_errors
def push(obj):
    """Copy the built graph (the build folder's dump and change log) into the external store given with --store."""
    from .kg import builddir
    from .kg.remote import RemoteStore, ensure_available
    from .kg.store import version_of

    if not obj["store"]:
        raise KGError("give the external store with --store URL (or ECONPLAN_STORE_URL)", status=400)
    remote = RemoteStore(obj["store"])
    ensure_available(remote)
    if not builddir.is_built(obj["build_dir"]):
        raise KGError(f"{obj['build_dir']}: no build here; run `econplan build` first", status=400)
    quads = builddir.current_quads(obj["build_dir"])
    graphs: dict = {}
    for q in quads:
        graphs.setdefault(q.graph_name, []).append(q)
    for g in list(remote.named_graphs()):
        graphs.setdefault(g, [])
    remote.replace_graphs(graphs, version_of(obj["build_dir"]))
    click.echo(f"pushed {len(quads)} quads in {len(graphs)} graphs to {remote.url}")


@cli.command()
@click.pass_obj
@handle_errors
def compact(obj):
    """Fold the change log (the writes since the build) into the dumps, atomically."""
    from .kg import builddir

    if not builddir.is_built(obj["build_dir"]):
        raise KGError(f"{obj['build_dir']}: no build here; run `econplan build` first", status=400)
    with builddir.writer(obj["build_dir"]):
        done = builddir.compact(obj["build_dir"])
        builddir.reconcile(obj["build_dir"], locked=True)
    if done["records"]:
        click.echo(f"folded {done['records']} write(s) into the dumps: {done['triples']} triples "
                   f"(version {done['version']})")
    else:
        click.echo(f"nothing to fold (version {done['version']})")


def _kg(obj):
    from .kg.store import KnowledgeGraph

    return KnowledgeGraph.open(obj["target"], mode="memory")



# -- econplan validate -------------------------------------------------------------------------
# ``econplan validate``: the SHACL validation of the built store, or of files with it.
# 
# Usage::
# 
#     econplan validate                        # the whole built store
#     econplan validate new.ttl other.jsonld   # these files together with the store
#     econplan validate --format table --engine pyshacl
# 
# With files, only what they touch is validated: the IRIs that are subjects in
# the files, expanded as :func:`server.kg.validation.expand_focus` describes (if a
# file has blank-node subjects, everything is validated).  The shapes are the
# project's ``shapes/*.ttl`` (``--root``), or the shapes graphs of the store when
# the project has none.
# 
# Exit codes: 0 conforms (warnings and infos allowed), 1 violations, 2 could not
# run (no built store, an unreadable or unparseable file, an engine failure); in
# the last case one line ``error: …`` on standard error and no traceback.

FORMATS = ("text", "table", "turtle", "json")


def _fail_validation(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _shapes_for(root: Path, store):
    from .kg import vocab as V
    from .kg.validation import shape_files

    files = shape_files(Path(root) / "shapes") if (Path(root) / "shapes").is_dir() else []
    if files:
        return files
    prefix = V.GRAPH + "shapes/"
    quads = [q for q in store if getattr(q.graph_name, "value", "").startswith(prefix)]
    if not quads:
        raise click.ClickException("no shapes: neither ROOT/shapes/*.ttl nor shapes graphs in the store")
    return quads


def _validate(obj: dict, files: tuple, fmt: str, engine: str) -> int:
    import pyoxigraph as ox

    from .kg.loading import parse_file
    from .kg.store import KnowledgeGraph
    from .kg.validation import for_files, validate

    kg = KnowledgeGraph.open(obj["build_dir"], mode="memory")
    shapes = _shapes_for(obj.get("root", Path(".")), kg.store)
    focus = None
    data = kg.store
    if files:
        loaded = []
        for f in files:
            loaded.extend(parse_file(Path(f)))
        subjects = {q.subject for q in loaded}
        if not any(isinstance(s, ox.BlankNode) for s in subjects):
            focus = {s.value for s in subjects if isinstance(s, ox.NamedNode)}
        data = list(kg.store) + loaded
    report = validate(data, shapes, engine=engine, focus=focus)
    if files:
        report = for_files(report, [Path(f).name for f in files])
    out = {"text": report.as_text, "table": report.as_table, "json": report.as_json,
           "turtle": report.as_turtle}[fmt]()
    click.echo(out, nl=False)
    return 0 if report.conforms else 1


@cli.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: one block per result; table: one line per result; turtle: the SHACL "
                   "report graph; json.")
@click.option("--engine", type=click.Choice(["turbo", "pyshacl"]), default="turbo", show_default=True,
              help="pyshacl-turbo (fast, default) or pySHACL (the reference implementation).")
@click.pass_obj
def validate_command(obj, files, fmt, engine):
    """Validate the built store, or FILES (any RDF format) together with it, against the SHACL shapes.

    Exit 0 when there is no violation (warnings and infos are listed), 1 when
    there are violations, 2 when validation could not run.
    """
    from .kg.errors import KGError

    obj = obj or {"root": Path("."), "build_dir": Path("build")}
    try:
        code = _validate(obj, files, fmt, engine)
    except KGError as exc:
        _fail_validation(exc.message)
    except click.ClickException as exc:
        _fail_validation(exc.format_message())
    except BrokenPipeError:
        closed_pipe()
    except OSError as exc:
        _fail_validation(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    except Exception as exc:  # an engine failure: one line, no traceback
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _fail_validation(f"validation could not run ({type(exc).__name__}): {text}")
    sys.exit(code)


@cli.command("draft")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--area", default="", help="GB/T 2260 code of the city the report is about.")
@click.option("--year", type=int, default=None,
              help="The year the report reviews (its actuals; targets are the next year). "
                   "Default: the earliest 20xx年 of its first paragraphs.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the draft CSV here (default: standard output).")
@click.option("--html", "html", is_flag=True,
              help="Also write a review page next to the CSV (same name, .html).")
@click.option("--spam", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Extra spam to clean first: lines `line: REGEX` and `token: TEXT`.")
@click.option("--part", type=click.Choice(["auto", "review", "plan"]), default="auto",
              show_default=True,
              help="What the text is: a whole report (auto: the review, then the plan from its "
                   "heading on), or an excerpt of only its review or only its plan part.")
@click.pass_obj
@handle_errors
def draft_cmd(obj, file, area, year, output, html, spam, part):
    """Draft every quantity of a report's text (UTF-8 or GB18030) as a CSV to review."""
    from .kg.draft import SpamPatterns, draft_file, to_csv, to_html

    if html and not output:
        raise KGError("--html needs -o (the page is written next to the CSV)", status=400)
    patterns = SpamPatterns.read(spam) if spam else None
    text, rows = draft_file(file, obj["root"] / "data", year, area, patterns, part=part)
    csv_text = to_csv(rows)
    if not output:
        click.echo(csv_text, nl=False)
        return
    page = to_html(text, rows, f"econplan draft: {file.name}") if html else None
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(csv_text, encoding="utf-8", newline="")
    if page is not None:
        output.with_suffix(".html").write_text(page, encoding="utf-8")
    tmp.replace(output)
    click.echo(f"{len(rows)} quantities -> {output}" + (f" and {output.with_suffix('.html')}"
                                                          if html else ""), err=True)

@cli.command("draft-accept")
@click.argument("draft_csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--text", "text_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The report text the draft was made from (cleaned again the same way).")
@click.option("--dataset", "name", required=True, help="Name (slug) of the dataset: data/drafts/NAME/.")
@click.option("--area", default="", help="GB/T 2260 code for rows whose area is empty.")
@click.option("--year", type=int, default=None, help="The year the report reviews (default: guessed).")
@click.option("--spam", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The same extra spam patterns given to `econplan draft`.")
@click.option("--reviewed", is_flag=True,
              help="Mark the facts ep:reviewed (default ep:drafted: not reviewed yet).")
@click.pass_obj
@handle_errors
def draft_accept_cmd(obj, draft_csv, text_file, name, area, year, spam, reviewed):
    """Turn a (reviewed) draft CSV into data/drafts/NAME/ for `econplan build` and the shapes."""
    from .kg.draft import SpamPatterns, clean_text, guess_year, read_text
    from .kg.drafts import accept

    text = clean_text(read_text(text_file), SpamPatterns.read(spam) if spam else None)
    folder = accept(draft_csv, text, name, obj["root"] / "data", year=year or guess_year(text),
                    area=area, reviewed=reviewed, source=text_file.name)
    click.echo(f"wrote {folder}; run `econplan build` to add it to the graph")


def main():  # pragma: no cover
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
