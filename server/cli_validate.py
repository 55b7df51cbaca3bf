"""``econplan validate``: the SHACL validation of the built store, or of files with it.

``register(cli)`` adds the command to a click group (idempotent, so importing
``server.cli`` and registering again in a test is harmless)::

    econplan validate                        # the whole built store
    econplan validate new.ttl other.jsonld   # these files together with the store
    econplan validate --format table --engine pyshacl

With files, only what they touch is validated: the IRIs that are subjects in
the files, expanded as :func:`server.validation.expand_focus` describes (if a
file has blank-node subjects, everything is validated).  The shapes are the
project's ``shapes/*.ttl`` (``--root``), or the shapes graphs of the store when
the project has none.

Exit codes: 0 conforms (warnings and infos allowed), 1 violations, 2 could not
run (no built store, an unreadable or unparseable file, an engine failure); in
the last case one line ``error: …`` on standard error and no traceback.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

FORMATS = ("text", "table", "turtle", "json")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _shapes_for(root: Path, store):
    from . import vocab as V
    from .validation import shape_files

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

    from .loading import parse_file
    from .store import KnowledgeGraph
    from .validation import for_files, validate

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


def register(cli) -> None:
    """Add ``validate`` to the click group ``cli`` (again is a no-op)."""
    if "validate" in getattr(cli, "commands", {}):
        return

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
        from .errors import KGError

        obj = obj or {"root": Path("."), "build_dir": Path("build")}
        try:
            code = _validate(obj, files, fmt, engine)
        except KGError as exc:
            _fail(exc.message)
        except click.ClickException as exc:
            _fail(exc.format_message())
        except BrokenPipeError:
            from .cli import closed_pipe

            closed_pipe()
        except OSError as exc:
            _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        except Exception as exc:  # an engine failure: one line, no traceback
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _fail(f"validation could not run ({type(exc).__name__}): {text}")
        sys.exit(code)
