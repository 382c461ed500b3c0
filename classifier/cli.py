"""Command line: clean files, show a page's labelled blocks, train and evaluate models."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .clean import Cleaner, Page
from .model import DEFAULT_MODEL, LABELS, ModelError

app = typer.Typer(
    help="Keep a web page's article body; label every other block as boilerplate, "
    "related_links, donation_appeal or counter_widget.",
    no_args_is_help=True,
    add_completion=False,
)

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz")


class Format(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"
    html = "html"


class TableFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"


ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", "-m", help=f"Model file (default: the shipped {DEFAULT_MODEL.name})."),
]


def _expand(paths: list[str]) -> Iterator[str]:
    """Files as given, directories as the HTML files under them, '-' as stdin."""
    for p in paths:
        if p == "-":
            yield p
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted(
                f for f in path.rglob("*") if f.is_file() and f.name.lower().endswith(HTML_SUFFIXES)
            )
            if not found:
                typer.echo(f"warning: no HTML files under {p}", err=True)
            yield from (str(f) for f in found)
        else:
            yield p


def _read(source: str) -> bytes:
    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    if source.endswith(".gz") or data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def _render(page: Page, fmt: Format) -> str:
    if fmt is Format.text:
        return page.text + "\n"
    if fmt is Format.markdown:
        return page.to_markdown()
    if fmt is Format.html:
        return page.to_html()
    return json.dumps(page.to_dict(), ensure_ascii=False) + "\n"


def _cleaner(model: Path | None, keep: list[str] | None = None, explain: bool = False) -> Cleaner:
    try:
        return Cleaner(model=model, keep=set(keep) if keep else None, explain=explain)
    except (ModelError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def clean(
    paths: Annotated[
        list[str], typer.Argument(help="HTML files, .html.gz, directories, or - for stdin.")
    ],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write one file per input into DIR.")
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep", help=f"Labels to keep (repeatable; default content). One of {LABELS}."
        ),
    ] = None,
    model: ModelOpt = None,
) -> None:
    """Print only the article body of each page.

    One input prints in --format to stdout; several print JSON Lines (one object per
    input with "source"), or with --output one file per input. A page that fails is
    reported on stderr with its name and the others still get cleaned (exit code 1).
    """
    cleaner = _cleaner(model, keep)
    sources = list(_expand(paths))
    if not sources:
        typer.echo("error: no input files", err=True)
        raise typer.Exit(2)
    if output:
        output.mkdir(parents=True, exist_ok=True)
    single = len(sources) == 1 and output is None
    failed = 0
    written: set[str] = set()
    for source in sources:
        try:
            page = cleaner.clean(_read(source))
        except Exception as exc:  # keep going: one bad page must not lose the batch
            failed += 1
            typer.echo(f"error: {source}: {type(exc).__name__}: {exc}", err=True)
            if not single and output is None:
                sys.stdout.write(json.dumps({"source": source, "error": str(exc)}) + "\n")
            continue
        if single:
            sys.stdout.write(_render(page, fmt))
        elif output is not None:
            name = Path(source).name if source != "-" else "stdin"
            for suffix in (".gz", ".html", ".htm", ".xhtml"):
                name = name.removesuffix(suffix)
            ext = {"text": "txt", "markdown": "md", "json": "json", "html": "html"}[fmt.value]
            target, k = f"{name}.{ext}", 1
            while target in written:  # a/index.html and b/index.html must not collide
                k += 1
                target = f"{name}-{k}.{ext}"
            written.add(target)
            (output / target).write_text(_render(page, fmt), encoding="utf-8")
        else:
            obj = {"source": source, **page.to_dict()}
            if fmt is Format.markdown:
                obj["markdown"] = page.to_markdown()
            elif fmt is Format.html:
                obj["html"] = page.to_html()
            if fmt is not Format.json:
                obj.pop("blocks")
            sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    if failed:
        raise typer.Exit(1)


@app.command()
def blocks(
    path: Annotated[str, typer.Argument(help="One HTML file, .html.gz, or - for stdin.")],
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="table or jsonl.")] = (
        TableFormat.table
    ),
    why: Annotated[
        bool, typer.Option("--why", help="Show the features behind each label.")
    ] = False,
    model: ModelOpt = None,
) -> None:
    """Show every block of a page with its label and confidence."""
    cleaner = _cleaner(model, explain=why)
    try:
        page = cleaner.clean(_read(path))
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for b in page.to_dict()["blocks"]:
        if fmt is TableFormat.jsonl:
            sys.stdout.write(json.dumps(b, ensure_ascii=False) + "\n")
            continue
        text = b["text"] if len(b["text"]) <= 70 else b["text"][:67] + "..."
        line = f"{b['label']:<16} {b['confidence']:.2f}  {b['tag']:<8} {text}"
        if why and b.get("why"):
            line += "\n" + " " * 18 + "why: " + ", ".join(b["why"])
        sys.stdout.write(line + "\n")


@app.command()
def train(
    corpus: Annotated[
        list[Path] | None,
        typer.Option("--corpus", "-c", help="Corpus dir in the shared layout (repeatable). "
                     "Default: all of ../shared/corpora that exist."),
    ] = None,
    labels: Annotated[
        list[Path] | None,
        typer.Option("--labels", "-l", help="Label file or dir (repeatable; "
                     "default training_data/labels)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the model "
                     "[default: models/default.joblib of the checkout]."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the site split and the estimator.")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes.")] = 2,
    page_metrics: Annotated[
        bool, typer.Option(help="Also score held-out pages (shingle/snippet F1).")
    ] = True,
    cache: Annotated[
        Path | None,
        typer.Option(help="Keep the block table here and reuse it while nothing changed."),
    ] = None,
) -> None:
    """Train a model from training_data/ (+ corpora), report held-out-site metrics, save it."""
    from . import train as train_mod

    evaluator = train_mod.evaluate_held_out if page_metrics else None
    output = output or train_mod.REPO / "models" / "default.joblib"
    train_mod.train(corpus or None, labels or None, output, seed=seed, n_jobs=jobs,
                    evaluate_pages=evaluator, cache_dir=cache)  # fmt: skip


@app.command("import-labels")
def import_labels(
    source: Annotated[Path, typer.Argument(help="JSONL of {corpus, id, text, label}.")],
    corpora: Annotated[Path, typer.Option(help="Directory holding the corpora.")] = Path(
        "../shared/corpora"
    ),
    output: Annotated[Path, typer.Option("--output", "-o", help="Fingerprint JSONL to write.")] = (
        Path("training_data/labels/imported.jsonl")
    ),
    label_source: Annotated[
        str, typer.Option("--source", help="hand | rule-reviewed (unless rows say).")
    ] = "hand",
) -> None:
    """Turn text-keyed block labels into fingerprint records for training_data/labels."""
    from .labels import import_text_labels

    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").split("\n")
            if line.strip()]  # fmt: skip
    records, missed = import_text_labels(rows, corpora, source=label_source)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
    typer.echo(f"{len(rows)} labels -> {len(records)} block records in {output}; "
               f"{missed} matched no block", err=True)  # fmt: skip


@app.command()
def evaluate(
    corpora: Annotated[list[Path], typer.Argument(help="Corpus dirs (pages/ + gold.jsonl).")],
    model: ModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    limit: Annotated[
        int | None, typer.Option(help="Score an even spread of N pages per corpus.")
    ] = None,
    compare: Annotated[
        str | None, typer.Option(help="Also run 'trafilatura' on the same pages.")
    ] = None,
) -> None:
    """Score extraction on corpora: shingle and snippet P/R/F1, ms per page, errors."""
    from .evaluate import evaluate_corpus, trafilatura_extractor

    cleaner = _cleaner(model)

    def ours(data: bytes, url: str | None) -> str:
        return cleaner.clean(data, url=url).text

    others = {}
    if compare:
        if compare != "trafilatura":
            typer.echo("error: --compare supports only 'trafilatura'", err=True)
            raise typer.Exit(2)
        try:
            others["trafilatura"] = trafilatura_extractor()
        except RuntimeError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    results: dict[str, dict] = {}
    for cdir in corpora:
        if not (cdir / "gold.jsonl").is_file():
            typer.echo(f"error: {cdir} has no gold.jsonl", err=True)
            raise typer.Exit(2)
        rep = evaluate_corpus(cdir, ours, limit=limit, progress=not as_json)
        results[cdir.name] = rep.to_dict()
        for name, fn in others.items():
            other = evaluate_corpus(cdir, fn, limit=limit, progress=not as_json).to_dict()
            results[cdir.name][name] = other
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        return
    _print_eval(results, list(others))


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _print_eval(results: dict[str, dict], others: list[str]) -> None:
    cols = ("pages", "shingle P/R/F1", "snippet P/R/F1", "ms/page", "errors")
    typer.echo(f"{'corpus':<20} {'system':<12} " + " ".join(f"{c:>20}" for c in cols))
    for corpus, r in results.items():
        for name, row in [("classifier", r)] + [(o, r[o]) for o in others]:
            sh = "/".join(_fmt(row[f"shingle_{k}"]) for k in ("precision", "recall", "f1"))
            sn = "/".join(_fmt(row[f"snippet_{k}"]) for k in ("precision", "recall", "f1"))
            vals = (str(row["pages"]), sh, sn, _fmt(row["ms_per_page"], 1), str(row["errors"]))
            typer.echo(f"{corpus:<20} {name:<12} " + " ".join(f"{v:>20}" for v in vals))
        for o in others:
            ratio = r[o]["ms_per_page"] / max(r["ms_per_page"], 1e-9)
            typer.echo(f"{'':<20} {o} takes {ratio:.1f}x our time per page")


@app.command()
def report(
    paths: Annotated[list[str], typer.Argument(help="HTML files, .html.gz or directories.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    model: ModelOpt = None,
) -> None:
    """Write one self-contained HTML report: each page's blocks coloured by label."""
    from .report import write_report

    sources = list(_expand(paths))
    if not sources:
        typer.echo("error: no input files", err=True)
        raise typer.Exit(2)
    failed = write_report(sources, output, _cleaner(model, explain=True), _read)
    typer.echo(f"wrote {output} ({len(sources)} page(s), {failed} failed)", err=True)
    if failed:
        raise typer.Exit(1)


@app.command()
def label(
    paths: Annotated[list[str], typer.Argument(help="HTML files, .html.gz or directories.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Label file to write "
                                      "(e.g. training_data/labels/NAME.jsonl).")],
    pages: Annotated[Path | None, typer.Option(help="Where copies of non-corpus pages go "
                     "[default: training_data/pages beside OUT's labels dir].")] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    open_browser: Annotated[bool, typer.Option("--open", help="Open a browser.")] = False,
    model: ModelOpt = None,
) -> None:
    """Serve a local page to relabel blocks by hand; saves labels `classifier train` reads."""
    from .label_server import LabelSession, serve

    try:
        session = LabelSession.load(list(_expand(paths)), _cleaner(model, explain=True),
                                    _read, out, pages)  # fmt: skip
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not session.pages:
        typer.echo("error: no input files", err=True)
        raise typer.Exit(2)
    serve(session, port=port, echo=lambda s: typer.echo(s) or sys.stdout.flush(),
          open_browser=open_browser)  # fmt: skip


if __name__ == "__main__":
    app()
