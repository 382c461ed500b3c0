"""Command line: clean files, show a page's labelled blocks, train and evaluate models."""

from __future__ import annotations

import json
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .clean import Cleaner, Page
from .decode import DEFAULT_MAX_BYTES, gunzip
from .errors import ClassifierError, ModelError
from .integrations.warc import WARC_SUFFIXES, describe_skipped, is_warc, iter_html_records
from .model import DEFAULT_MODEL, LABELS

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


EXIT_CODES = """Exit status: 0 every input cleaned; 1 some inputs failed (each has an error
record and a line on stderr); 2 bad usage, no inputs, or an unusable model."""


@dataclass(frozen=True)
class Input:
    """One thing to clean: a file path or '-', or a page already in memory (a WARC
    record), or the error that stopped us from getting at it."""

    source: str
    data: str | bytes | None = None
    url: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Job:
    """How each worker cleans and renders (picklable, so it can cross to a process)."""

    model: str | None
    keep: tuple[str, ...] | None
    fmt: str
    max_bytes: int
    timeout: float | None
    batch: bool
    debug: bool


def _files(paths: list[str]) -> Iterator[str]:
    """Files as given, directories as the HTML and WARC files under them, '-' as stdin."""
    for p in paths:
        path = Path(p)
        if p != "-" and path.is_dir():
            found = sorted(
                f for f in path.rglob("*")
                if f.is_file() and f.name.lower().endswith(HTML_SUFFIXES + WARC_SUFFIXES)
            )  # fmt: skip
            if not found:
                typer.echo(f"warning: no HTML files under {p}", err=True)
            yield from (str(f) for f in found)
        else:
            yield p


def _inputs(files: list[str], log: Callable[[str], None] | None) -> Iterator[Input]:
    """Every page to clean, lazily: a file is one input, an archive one per HTML response.

    An archive that cannot be opened or breaks part-way gives one error input named
    after it (after the records read so far), so nothing is lost without a record.
    """
    for f in files:
        if not is_warc(f):
            yield Input(f)
            continue
        skipped: Counter[str] = Counter()
        n = 0
        try:
            for url, html in iter_html_records(f, skipped):
                n += 1
                yield Input(url, data=html, url=url)
        except Exception as exc:  # missing, truncated, not an archive, extra absent
            yield Input(f, error=f"{type(exc).__name__}: {exc}")
        if log and (n or skipped):
            log(f"{f}: {n} HTML response{'s' if n != 1 else ''}; "
                f"skipped {describe_skipped(skipped)}")  # fmt: skip


def _read(source: str) -> bytes:
    """A file's (or stdin's) bytes, gzip inflated (bomb-safe) so every command sees HTML."""
    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gunzip(data, DEFAULT_MAX_BYTES)
    return data


def _render(page: Page, fmt: Format | str) -> str:
    fmt = Format(fmt)
    if fmt is Format.text:
        return page.text + "\n"
    if fmt is Format.markdown:
        return page.to_markdown()
    if fmt is Format.html:
        return page.to_html()
    return json.dumps(page.to_dict(), ensure_ascii=False) + "\n"


def _record(source: str, page: Page, fmt: Format) -> str:
    """One JSON line for a batch: the page's fields plus its source."""
    obj = {"source": source, **page.to_dict()}
    if fmt is Format.markdown:
        obj["markdown"] = page.to_markdown()
    elif fmt is Format.html:
        obj["html"] = page.to_html()
    if fmt is not Format.json:
        obj.pop("blocks")
    return json.dumps(obj, ensure_ascii=False) + "\n"


def _cleaner(model: Path | None, explain: bool = False) -> Cleaner:
    """The Cleaner for a one-page command; a bad model is a usage error (exit 2)."""
    try:
        return Cleaner(model=model, explain=explain)
    except ModelError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


_CLEANERS: dict[Job, Cleaner] = {}  # per process: a worker loads its model once


def _job_cleaner(job: Job) -> Cleaner:
    """The Cleaner for `job`, made once per process (the model loads once)."""
    if job not in _CLEANERS:
        keep = set(job.keep) if job.keep else None
        _CLEANERS[job] = Cleaner(model=job.model, keep=keep, max_bytes=job.max_bytes,
                                 timeout=job.timeout)  # fmt: skip
    return _CLEANERS[job]


def _clean_one(inp: Input, job: Job, target: str | None) -> tuple[str, str, str | None]:
    """Clean one input -> (source, what to print, error message or None). Never raises."""
    try:
        if inp.error:
            raise _InputUnavailable(inp.error)
        data = inp.data if inp.data is not None else _read(inp.source)
        page = _job_cleaner(job).clean(data, url=inp.url)
        if target is not None:
            Path(target).write_text(_render(page, job.fmt), encoding="utf-8")
            return inp.source, "", None
        if job.batch:
            return inp.source, _record(inp.source, page, Format(job.fmt)), None
        return inp.source, _render(page, job.fmt), None
    except Exception as exc:  # keep going: one page must not lose a batch (RecursionError too)
        if isinstance(exc, OSError):
            message = f"cannot read: {exc.strerror or exc}"
        elif isinstance(exc, _InputUnavailable):
            message = str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
        if job.debug:
            message += "\n" + "".join(traceback.format_exception(exc))
        if not job.batch or target is not None:
            return inp.source, "", message
        record = {"source": inp.source, "error": message.split("\n")[0],
                  "error_type": type(exc).__name__}  # fmt: skip
        return inp.source, json.dumps(record, ensure_ascii=False) + "\n", message


class _InputUnavailable(Exception):
    """An input we could not even get at (e.g. a broken archive)."""


def _with_targets(
    inputs: Iterable[Input], output: Path | None, fmt: Format
) -> Iterator[tuple[Input, str | None]]:
    """Pair each input with its output file (named after it; same names get -2, -3…)."""
    ext = {"text": "txt", "markdown": "md", "json": "json", "html": "html"}[fmt.value]
    written: set[str] = set()
    for inp in inputs:
        if output is None:
            yield inp, None
            continue
        name = inp.source if inp.source != "-" else "stdin"
        name = _safe_name(name.rstrip("/").rsplit("/", 1)[-1])  # a file's or URL's last step
        for suffix in (".gz", ".html", ".htm", ".xhtml"):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
        name = name or "page"
        target, k = f"{name}.{ext}", 1
        while target in written:  # a/index.html and b/index.html must not collide
            k += 1
            target = f"{name}-{k}.{ext}"
        written.add(target)
        yield inp, str(output / target)


def _safe_name(name: str) -> str:
    """A file name from a path step or URL step (queries and odd characters made safe)."""
    return re.sub(r"[^\w.-]+", "_", name)[:150].strip("._") or "page"


def _split_labels(values: list[str] | None) -> tuple[str, ...] | None:
    """--keep content,related_links and --keep content --keep related_links alike."""
    if not values:
        return None
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


@app.command(epilog=EXIT_CODES)
def clean(
    paths: Annotated[
        list[str], typer.Argument(help="HTML files, .html.gz, WARC/ARC, directories, or -.")
    ],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write one file per input into DIR.")
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep", help=f"Labels to keep, comma-separated or repeated (default content). "
            f"Any of {', '.join(LABELS)}."
        ),
    ] = None,
    model: ModelOpt = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Worker processes for many inputs.")
    ] = 1,
    max_bytes: Annotated[
        int, typer.Option(min=1, help="Refuse inputs larger than this many bytes.")
    ] = DEFAULT_MAX_BYTES,
    timeout: Annotated[
        float, typer.Option(min=0, help="Give up on one page after this many seconds (0: never).")
    ] = 60.0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or summary on stderr.")
    ] = False,
    debug: Annotated[bool, typer.Option(help="Print tracebacks of failures.")] = False,
    dask: Annotated[
        str | None,
        typer.Option(help="Clean on Dask: 'local', 'local:N' workers, or a scheduler "
                     "address; writes Parquet into --output."),
    ] = None,
) -> None:
    """Print only the article body of each page.

    One input file prints in --format to stdout. Several inputs (or a directory) print
    JSON Lines in input order, one object per input with "source" (and "error" if it
    failed), or with --output one file per input. A failing page never stops a batch.
    """
    keep_labels = _split_labels(keep)
    files = list(_files(paths))
    if not files:
        typer.echo("error: no input files", err=True)
        raise typer.Exit(2)
    if dask is not None:
        from .integrations.dask import run_cli

        raise typer.Exit(run_cli(files, dask, output, keep_labels, model))
    if output:
        output.mkdir(parents=True, exist_ok=True)
    single = (len(paths) == 1 and len(files) == 1 and not Path(paths[0]).is_dir()
              and not is_warc(files[0]))  # fmt: skip
    job = Job(model=str(model) if model else None, keep=keep_labels, fmt=fmt.value,
              max_bytes=max_bytes, timeout=timeout or None,
              batch=not single or output is not None, debug=debug)  # fmt: skip
    try:  # a bad model or --keep is a usage error (exit 2), found before any page
        _job_cleaner(job)
    except (ModelError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if single and output is None:
        _, text, error = _clean_one(Input(files[0]), job, None)
        if error:
            typer.echo(f"error: {files[0]}: {error}", err=True)
            raise typer.Exit(1)
        sys.stdout.write(text)
        return
    inputs = _inputs(files, log=None if quiet else lambda m: typer.echo(m, err=True))
    total = None if any(is_warc(f) for f in files) else len(files)
    failed = _run_batch(inputs, total, output, fmt, job, jobs, quiet)
    if failed:
        raise typer.Exit(1)


def _run_batch(
    inputs: Iterable[Input],
    total: int | None,
    output: Path | None,
    fmt: Format,
    job: Job,
    jobs: int,
    quiet: bool,
) -> int:
    """Clean every input in order, streaming records out; return the failure count."""
    start = time.perf_counter()
    tasks: Iterable[tuple[Input, str | None]] = _with_targets(inputs, output, fmt)
    if jobs > 1:
        from joblib import Parallel, delayed

        # a worker process cannot read our stdin: read it here
        tasks = ((Input(i.source, _read("-")) if i.source == "-" else i, t) for i, t in tasks)
        results = Parallel(n_jobs=jobs, return_as="generator", batch_size=16,
                           pre_dispatch="8 * n_jobs")(
            delayed(_clean_one)(inp, job, t) for inp, t in tasks
        )  # fmt: skip
    else:
        results = (_clean_one(inp, job, t) for inp, t in tasks)
    show = not quiet and sys.stderr.isatty()
    failed = done = 0
    with typer.progressbar(results, length=total, label="cleaning", file=sys.stderr,
                           hidden=not show) as bar:  # fmt: skip
        for source, text, error in bar:
            done += 1
            if error:
                failed += 1
                typer.echo(f"error: {source}: {error}", err=True)
            if text:
                sys.stdout.write(text)
    if not quiet:
        seconds = time.perf_counter() - start
        typer.echo(
            f"cleaned {done - failed} of {done} inputs, {failed} failed, "
            f"in {seconds:.1f} s ({done / max(seconds, 1e-9):.0f} pages/s)",
            err=True,
        )
    return failed


@app.command()
def blocks(
    path: Annotated[str, typer.Argument(help="One HTML file, .html.gz, or - for stdin.")],
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="table or jsonl.")] = (
        TableFormat.table
    ),
    why: Annotated[
        bool,
        typer.Option("--why", "--explain", help="Show the features (weight x value) "
                     "behind each label."),
    ] = False,
    model: ModelOpt = None,
) -> None:
    """Show every block of a page with its label and confidence."""
    cleaner = _cleaner(model, explain=why)
    try:
        page = cleaner.clean(_read(path))
    except OSError as exc:
        typer.echo(f"error: {path}: cannot read: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from exc
    except ClassifierError as exc:
        typer.echo(f"error: {path}: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from exc
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
    content_c: Annotated[
        float | None, typer.Option(help="Inverse regularisation of the content model: lower "
                                   "trusts site-specific tokens less [default: the "
                                   "shipped recipe's, train.CONTENT_C].")
    ] = None,
    min_sites: Annotated[
        int | None, typer.Option(help="The content model only learns class tokens, words "
                                 "and heading words seen on at least this many sites "
                                 "(1: all) [default: train.MIN_SITES].")
    ] = None,
    memory_c: Annotated[
        float | None, typer.Option(help="With --min-sites > 1: fit the features left out "
                                   "of the content model on what it gets wrong, at this "
                                   "inverse regularisation, so training sites keep their "
                                   "own quirks while new sites are scored by site-wide "
                                   "features (0: off) [default: train.MEMORY_C, off].")
    ] = None,
) -> None:
    """Train a model from training_data/ (+ corpora), report held-out-site metrics, save it."""
    from . import train as train_mod

    evaluator = train_mod.evaluate_held_out if page_metrics else None
    output = output or train_mod.REPO / "models" / "default.joblib"
    if ((content_c is not None and content_c <= 0) or (min_sites is not None and min_sites < 1)
            or (memory_c is not None and memory_c < 0)):
        raise typer.BadParameter("--content-c must be > 0, --min-sites >= 1, --memory-c >= 0")
    recipe = {
        "content_c": train_mod.CONTENT_C if content_c is None else content_c,
        "min_sites": train_mod.MIN_SITES if min_sites is None else min_sites,
        "memory_c": train_mod.MEMORY_C if memory_c is None else (memory_c or None),
    }
    train_mod.train(corpus or None, labels or None, output, seed=seed, n_jobs=jobs,
                    evaluate_pages=evaluator, cache_dir=cache, **recipe)  # fmt: skip


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
        int | None, typer.Option(min=1, help="Score an even spread of N pages per corpus.")
    ] = None,
    compare: Annotated[
        str | None, typer.Option(help="Also run 'trafilatura' on the same pages.")
    ] = None,
    labels: Annotated[
        list[Path] | None,
        typer.Option("--labels", "-l", help="Hand labels (file or dir) to score block "
                     "labels against [default: training_data/labels]."),
    ] = None,
) -> None:
    """Score extraction on corpora: shingle and snippet P/R/F1, ms per page, errors.

    Where hand labels exist for a corpus's blocks (training_data/labels or --labels),
    also per-label precision/recall/F1 of the block labels. They are site-disjoint only
    for a model trained without those sites (the shipped model saw them).
    """
    from .evaluate import evaluate_corpus, label_scores, non_content_dropped, trafilatura_extractor
    from .labels import fingerprint, load_stored_labels

    cleaner = _cleaner(model)
    label_paths = labels or [p for p in [_training_labels_dir()] if p.is_dir()]
    try:
        stored = load_stored_labels(label_paths)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    hand = {k: v.label for k, v in stored.items() if v.source in ("hand", "rule-reviewed")}
    last: dict[str, Page] = {}
    pairs: list[tuple[str, str]] = []

    def ours(data: bytes, url: str | None) -> str:
        page = cleaner.clean(data, url=url)
        last["page"] = page
        return page.text

    def score_blocks(corpus: str) -> Callable[[dict], None]:
        def after(record: dict) -> None:
            page = last.pop("page", None)
            if page is None or not hand:
                return
            for b in page.blocks:
                true = hand.get((corpus, str(record["id"]), fingerprint(b.text)))
                if true is not None:
                    pairs.append((true, b.label))

        return after

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
        key = cdir.name if cdir.name not in results else str(cdir)  # two dirs named alike
        pairs.clear()
        rep = evaluate_corpus(cdir, ours, limit=limit, progress=not as_json,
                              after_page=score_blocks(cdir.name))  # fmt: skip
        results[key] = rep.to_dict()
        if pairs:
            results[key]["block_labels"] = label_scores(pairs)
            dropped = non_content_dropped(pairs)
            if dropped is not None:
                results[key]["non_content_dropped"] = dropped
        for name, fn in others.items():
            other = evaluate_corpus(cdir, fn, limit=limit, progress=not as_json).to_dict()
            # how many times our time per page theirs is (below 1: we are faster)
            other["time_ratio"] = round(
                results[key]["ms_per_page"] / max(other["ms_per_page"], 1e-9), 3
            )
            results[key].setdefault("compare", {})[name] = other
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        return
    _print_eval(results, list(others))


@app.command()
def bench(
    corpora: Annotated[list[Path], typer.Argument(help="Corpus dirs (pages/ + gold.jsonl).")],
    pages: Annotated[
        int, typer.Option("--pages", "-n", min=1, help="Pages per corpus (evenly spread).")
    ] = 300,
    model: ModelOpt = None,
    compare: Annotated[
        bool, typer.Option(help="Also time trafilatura on the same pages, interleaved.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Time cleaning per page (median, p95, stages, peak RSS) on one core, next to trafilatura."""
    from .bench import format_bench, load_pages, run_bench

    cleaner = _cleaner(model)
    for cdir in corpora:
        if not (cdir / "gold.jsonl").is_file():
            typer.echo(f"error: {cdir} has no gold.jsonl", err=True)
            raise typer.Exit(2)
    raw = load_pages(corpora, pages)
    show = not as_json and sys.stderr.isatty()
    with typer.progressbar(length=len(raw), label="timing", file=sys.stderr,
                           hidden=not show) as bar:  # fmt: skip
        try:
            result = run_bench(raw, cleaner.model, compare=compare,
                               progress=lambda _: bar.update(1))  # fmt: skip
        except RuntimeError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        typer.echo(format_bench(result))


def _training_labels_dir() -> Path:
    from .labels import project_root

    return project_root() / "training_data" / "labels"


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _print_eval(results: dict[str, dict], others: list[str]) -> None:
    cols = ("pages", "shingle P/R/F1", "snippet P/R/F1", "ms/page", "errors")
    typer.echo(f"{'corpus':<20} {'system':<12} " + " ".join(f"{c:>20}" for c in cols))
    for corpus, r in results.items():
        for name, row in [("classifier", r)] + [(o, r["compare"][o]) for o in others]:
            sh = "/".join(_fmt(row[f"shingle_{k}"]) for k in ("precision", "recall", "f1"))
            sn = "/".join(_fmt(row[f"snippet_{k}"]) for k in ("precision", "recall", "f1"))
            vals = (str(row["pages"]), sh, sn, _fmt(row["ms_per_page"], 1), str(row["errors"]))
            typer.echo(f"{corpus:<20} {name:<12} " + " ".join(f"{v:>20}" for v in vals))
        for o in others:
            ratio = r["compare"][o]["time_ratio"]
            typer.echo(f"{'':<20} our time per page is {ratio:.2f}x {o}'s")
        for lab, row in r.get("block_labels", {}).items():
            typer.echo(f"{'':<20} hand-labelled blocks {lab:<16} P {row['precision']:.3f} "
                       f"R {row['recall']:.3f} F1 {row['f1']:.3f} ({row['blocks']} blocks)")
        dropped = r.get("non_content_dropped")
        if dropped:
            typer.echo(f"{'':<20} hand-labelled non-content blocks absent from the text: "
                       f"{dropped['share']:.3f} ({dropped['blocks']} blocks)")


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

    sources = list(_files(paths))
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
        session = LabelSession.load(list(_files(paths)), _cleaner(model, explain=True),
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
