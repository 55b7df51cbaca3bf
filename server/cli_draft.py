"""``econplan draft`` and ``econplan draft-accept``: draft a report's quantities, then accept a review.

``register(cli)`` adds both commands to a click group (again is a no-op)::

    econplan draft report.txt --area 330200 --year 2023 -o drafts.csv --html
    econplan draft-accept drafts.csv --text report.txt --dataset ningbo-2023 [--reviewed]

The drafting itself is in :mod:`server.kg.draft` and the dataset folder in :mod:`server.kg.drafts`
(no click there).  Errors are one line ``error: …`` and a non-zero exit, nothing half written.
"""
from __future__ import annotations

from pathlib import Path

import click


def register(cli) -> None:
    """Add ``draft`` and ``draft-accept`` to the click group ``cli``."""
    if "draft" in getattr(cli, "commands", {}):
        return
    from .cli import handle_errors
    from .errors import KGError

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
    @click.pass_obj
    @handle_errors
    def draft_cmd(obj, file, area, year, output, html, spam):
        """Draft every quantity of a report's text (UTF-8 or GB18030) as a CSV to review."""
        from .kg.draft import SpamPatterns, draft_file, to_csv, to_html

        if html and not output:
            raise KGError("--html needs -o (the page is written next to the CSV)", status=400)
        patterns = SpamPatterns.read(spam) if spam else None
        text, rows = draft_file(file, obj["root"] / "data", year, area, patterns)
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
