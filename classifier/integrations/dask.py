"""Dask: clean many pages on a cluster (or on all cores of this machine) into Parquet.

    classifier clean pages/ crawl.warc.gz --dask local --output out/     # LocalCluster
    classifier clean pages/ --dask local:2 --output out/                 # ... 2 workers
    classifier clean pages/ --dask tcp://scheduler:8786 --output out/    # existing cluster

    from classifier.integrations.dask import clean_dataframe
    ddf = clean_dataframe(ddf, html_column="html")   # adds title, text, paywalled, ...

Why this shape: cleaning is CPU-bound Python, so each worker runs one thread in its own
process and loads the model once (a per-process cache), and tasks carry only file
paths, never the 6 MB model or the pages. Each task cleans a chunk of files (or one
WARC) and writes its own `part-NNNNN.parquet`, so nothing but a small tally travels
back to the client; parts are numbered in input order, so reading the directory gives
the rows in the same order as the single-process `classifier clean`. With a remote
scheduler the workers read the inputs, the model file and write the output themselves:
those paths must be visible to them (a shared filesystem), as with dask's own readers.
"""

from __future__ import annotations

import gzip
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clean import Cleaner, Page
from ..model import LABELS
from . import MissingExtra, require
from .warc import describe_skipped, is_warc, iter_html_records

COUNT_COLUMNS = [f"n_{label}" for label in LABELS]  # blocks per label on the page
COLUMNS = ["source", "url", "title", "text", "paywalled", *COUNT_COLUMNS, "error"]
MAX_CHUNK = 64  # files per task: enough to amortise scheduling, small enough to balance


def _schema() -> Any:
    pa = require("pyarrow", "dask")
    strings = ["source", "url", "title", "text"]
    return pa.schema(
        [(c, pa.string()) for c in strings]
        + [("paywalled", pa.bool_())]
        + [(c, pa.int32()) for c in COUNT_COLUMNS]
        + [("error", pa.string())]
    )


def page_row(source: str, url: str | None, page: Page) -> dict[str, Any]:
    """One output row for a cleaned page."""
    counts = Counter(b.label for b in page.blocks)
    return {
        "source": source,
        "url": url,
        "title": page.title,
        "text": page.text,
        "paywalled": page.paywalled,
        **{f"n_{label}": counts.get(label, 0) for label in LABELS},
        "error": None,
    }


def error_row(source: str, url: str | None, exc: BaseException) -> dict[str, Any]:
    """The row of a page that failed: only source, url and the error are set."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(source=source, url=url, error=f"{type(exc).__name__}: {exc}")
    return row


# ------------------------------------------------------------------ on the workers

_CLEANERS: dict[tuple[str | None, tuple[str, ...] | None], Cleaner] = {}


def worker_cleaner(model: str | None, keep: tuple[str, ...] | None) -> Cleaner:
    """One Cleaner per worker process and settings: the model loads once, not per task."""
    key = (model, keep)
    if key not in _CLEANERS:
        _CLEANERS[key] = Cleaner(model=model, keep=set(keep) if keep else None)
    return _CLEANERS[key]


def read_file(path: str) -> bytes:
    """A page file as bytes, gunzipped if needed (as `classifier clean` reads it)."""
    data = Path(path).read_bytes()
    if path.endswith(".gz") or data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def clean_inputs(
    inputs: Iterable[tuple[str, str]], cleaner: Cleaner, skipped: Counter[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Rows for (name, path) inputs: a page file is one row, a WARC/ARC one per response."""

    def one(source: str, url: str | None, load: Callable[[], Any]) -> dict[str, Any]:
        try:
            return page_row(source, url, cleaner.clean(load(), url=url))
        except Exception as exc:  # one bad page must not lose the chunk
            return error_row(source, url, exc)

    for name, path in inputs:
        if not is_warc(path):
            yield one(name, None, lambda p=path: read_file(p))
            continue
        try:
            for url, html in iter_html_records(path, skipped):
                yield one(url, url, lambda h=html: h)
        except Exception as exc:  # unreadable or truncated archive
            yield error_row(name, None, exc)


def clean_chunk_to_parquet(
    index: int,
    inputs: list[tuple[str, str]],
    output_dir: str,
    model: str | None,
    keep: tuple[str, ...] | None,
) -> dict[str, Any]:
    """Task: clean a chunk of inputs and write part-<index>.parquet; return a tally."""
    pq = require("pyarrow.parquet", "dask")
    pa = require("pyarrow", "dask")
    skipped: Counter[str] = Counter()
    rows = list(clean_inputs(inputs, worker_cleaner(model, keep), skipped))
    table = pa.Table.from_pylist(rows, schema=_schema())
    pq.write_table(table, os.path.join(output_dir, f"part-{index:05d}.parquet"))
    return {
        "rows": len(rows),
        "errors": [(r["source"], r["error"]) for r in rows if r["error"]],
        "skipped": dict(skipped),
    }


# ------------------------------------------------------------------ on the client


@dataclass
class Summary:
    """What a `clean_to_parquet` run did."""

    pages: int = 0
    parts: int = 0
    workers: int = 0
    startup_seconds: float = 0.0  # connecting, or starting a LocalCluster
    seconds: float = 0.0  # cleaning and writing, after start-up
    errors: list[tuple[str, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


@contextmanager
def connect(scheduler: str) -> Iterator[Any]:
    """A distributed.Client: 'local' / 'local:N' start a LocalCluster, else an address.

    Local workers are processes with one thread each (the work holds the GIL); 'local'
    uses one worker per core.
    """
    distributed = require("distributed", "dask")
    if scheduler == "local" or scheduler.startswith("local:"):
        count = scheduler.partition(":")[2]
        if count and not (count.isdigit() and int(count) > 0):
            raise ValueError(f"{scheduler!r}: say local:N with N >= 1 workers")
        n = int(count) if count else os.cpu_count() or 1
        with (
            distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                     dashboard_address=":0") as cluster,  # fmt: skip
            distributed.Client(cluster) as client,
        ):
            yield client
    else:
        with distributed.Client(scheduler) as client:
            yield client


def chunk_inputs(
    inputs: Sequence[tuple[str, str]], workers: int, max_chunk: int = MAX_CHUNK
) -> list[list[tuple[str, str]]]:
    """Page files in runs of about n/(4*workers) (<= max_chunk); each archive alone.

    Input order is kept across chunks, so part numbers give the output order.
    """
    pages = sum(1 for _, p in inputs if not is_warc(p))
    size = max(1, min(max_chunk, math.ceil(pages / (4 * max(workers, 1)))))
    chunks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for item in inputs:
        if is_warc(item[1]) or len(current) >= size:
            if current:
                chunks.append(current)
            current = []
        if is_warc(item[1]):
            chunks.append([item])
        else:
            current.append(item)
    if current:
        chunks.append(current)
    return chunks


def clean_to_parquet(
    sources: Sequence[str],
    scheduler: str,
    output_dir: str | Path,
    keep: Iterable[str] | None = None,
    model: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Summary:
    """Clean page files and WARC/ARC archives on Dask; write Parquet parts to output_dir.

    One row per page (columns: COLUMNS). Inputs that fail are rows with `error` set,
    and are listed in the returned Summary. Raises FileExistsError rather than mixing
    with the parts of an earlier run in output_dir.
    """
    if "-" in sources:
        raise ValueError("stdin ('-') cannot be sent to Dask workers; save it to a file")
    out = Path(output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    old = sorted(out.glob("part-*.parquet"))
    if old:
        raise FileExistsError(f"{out} already holds {len(old)} part-*.parquet files")
    keep_t = tuple(sorted(keep)) if keep else None
    unknown = set(keep_t or ()) - set(LABELS)
    if unknown:  # fail here, not in every task on the workers
        raise ValueError(f"unknown labels to keep: {sorted(unknown)}; known: {LABELS}")
    inputs = [(s, os.path.abspath(s)) for s in sources]
    model_path = str(Path(model).resolve()) if model is not None else None
    summary = Summary()
    start = time.perf_counter()
    with connect(scheduler) as client:
        summary.startup_seconds = time.perf_counter() - start
        start = time.perf_counter()
        threads = client.nthreads()  # {worker: threads}; long-standing API
        summary.workers = len(threads)
        chunks = chunk_inputs(inputs, sum(threads.values()))
        futures = client.map(
            clean_chunk_to_parquet, range(len(chunks)), chunks,
            output_dir=str(out), model=model_path, keep=keep_t, pure=False,
        )  # fmt: skip
        for tally in client.gather(futures):
            summary.pages += tally["rows"]
            summary.errors += tally["errors"]
            summary.skipped.update(tally["skipped"])
        summary.parts = len(chunks)
        summary.seconds = time.perf_counter() - start
    if log:
        log(f"{summary.pages} pages -> {out} ({summary.parts} Parquet parts) on "
            f"{summary.workers} Dask workers in {summary.seconds:.1f} s "
            f"({summary.pages_per_second:.1f} pages/s; {summary.startup_seconds:.1f} s "
            f"to start before that); {len(summary.errors)} errors")  # fmt: skip
        if summary.skipped:
            log(f"archives: skipped {describe_skipped(summary.skipped)}")
    return summary


def run_cli(
    sources: Sequence[str],
    scheduler: str,
    output: Path | None,
    keep: Iterable[str] | None,
    model: Path | None,
) -> int:
    """`classifier clean --dask`: exit code 0, 1 (some pages failed) or 2 (cannot run)."""
    import typer

    def err(msg: str) -> None:
        typer.echo(msg, err=True)

    if output is None:
        err("error: --dask writes Parquet files: give --output DIR")
        return 2
    try:
        summary = clean_to_parquet(sources, scheduler, output, keep, model, log=err)
    except (MissingExtra, ValueError, FileExistsError) as exc:
        err(f"error: {exc}")
        return 2
    except OSError as exc:  # scheduler unreachable
        err(f"error: Dask scheduler {scheduler}: {type(exc).__name__}: {exc}")
        return 2
    for source, error in summary.errors:
        err(f"error: {source}: {error}")
    return 1 if summary.errors else 0


# ------------------------------------------------------------------ for dask users


ADDED_COLUMNS = ["title", "text", "paywalled", *COUNT_COLUMNS, "error"]
ADDED_DTYPES = {"title": "string", "text": "string", "paywalled": "boolean",
                **dict.fromkeys(COUNT_COLUMNS, "Int32"), "error": "string"}  # fmt: skip


def _clean_partition(
    df: Any,
    html_column: str,
    url_column: str | None,
    model: str | None,
    keep: tuple[str, ...] | None,
) -> Any:
    pd = require("pandas", "dask")
    cleaner = worker_cleaner(model, keep)
    rows = []
    urls = df[url_column] if url_column else [None] * len(df)
    for html, url in zip(df[html_column], urls, strict=True):
        url = url if isinstance(url, str) else None
        try:
            if not isinstance(html, (str, bytes)) and pd.isna(html):
                raise ValueError(f"no HTML in column {html_column!r}")
            row = page_row("", url, cleaner.clean(html, url=url))
        except Exception as exc:
            row = error_row("", url, exc)
        rows.append({c: row[c] for c in ADDED_COLUMNS})
    added = pd.DataFrame(rows, columns=ADDED_COLUMNS, index=df.index).astype(ADDED_DTYPES)
    return pd.concat([df, added], axis=1)


def clean_dataframe(
    ddf: Any,
    html_column: str = "html",
    url_column: str | None = None,
    keep: Iterable[str] | None = None,
    model: str | Path | None = None,
) -> Any:
    """Add title, text, paywalled, n_<label> and error columns to a dask DataFrame.

    Lazy, like any dask operation: runs on the active scheduler when computed or
    written (`.to_parquet(...)`). `model` must be a path the workers can read.
    """
    require("dask.dataframe", "dask")
    if html_column not in ddf.columns:
        raise KeyError(f"no column {html_column!r}; columns: {list(ddf.columns)}")
    clash = [c for c in ADDED_COLUMNS if c in ddf.columns]
    if clash:
        raise ValueError(f"columns {clash} already exist; rename them first")
    meta = {**ddf.dtypes.to_dict(), **ADDED_DTYPES}
    return ddf.map_partitions(
        _clean_partition, html_column, url_column,
        str(Path(model).resolve()) if model is not None else None,
        tuple(sorted(keep)) if keep else None,
        meta=meta,
    )  # fmt: skip
