"""Labelling page: a local web page where a person corrects the model's block labels.

`classifier label PAGE... --out training_data/labels/NAME.jsonl` cleans each page with
the model, serves one page on 127.0.0.1 (standard library only) that shows the blocks
coloured by label, and lets a person click a block (or use the keyboard) to change its
label and save. What is saved is what `classifier train` reads
(see ``training_data/README.md``, "Labels from `classifier label`"):

- a page of a corpus in the shared layout (``<corpus>/pages/<id>.html.gz`` with a row in
  ``<corpus>/gold.jsonl``) -> records keyed by that corpus and id, for the blocks the
  person set (gold alignment still labels the rest);
- one of our authored pages (``training_data/pages/<stem>.html``) -> records keyed
  ``authored`` / stem, for the blocks the person set (its inline labels label the rest);
- a corpus page without a gold row is refused (train would never read it, and corpus
  pages are never copied);
- any other page -> a copy of it, with ``data-label`` on its blocks, is written to
  ``training_data/pages/label_<stem>.html`` as an authored page, and records for every
  block are keyed ``authored`` / ``label_<stem>`` (it has no other labels to fall back on).

Records are keyed by block fingerprint, so blocks with the same text on one page share
one label; the page shows that by relabelling them together.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

from .clean import Cleaner
from .decode import parse, to_text
from .evaluate import load_gold
from .labels import fingerprint, load_stored_labels
from .model import LABELS
from .report import BASE_CSS, LABEL_COLOURS, block_html, esc, legend_html
from .segment import Block, segment

KEYS = {lab: str(n) for n, lab in enumerate(LABELS, 1)}  # 1..5 in LABELS order
LETTERS = {"content": "c", "donation_appeal": "d", "related_links": "r",
           "counter_widget": "w", "boilerplate": "b"}  # fmt: skip
COPY_PREFIX = "label_"
MAX_BODY = 20_000_000  # bytes of a save request; a page of 100k blocks fits easily
_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class PageKey:
    """How `classifier train` finds a page: corpus name + page id, and which route."""

    corpus: str
    id: str
    kind: str  # "corpus" | "authored" | "copy"


def _gold_ids(corpus_dir: Path, cache: dict[Path, set[str]]) -> set[str]:
    """The page ids `classifier train` can take labels for (read once per corpus)."""
    if corpus_dir not in cache:
        cache[corpus_dir] = {str(r["id"]) for r in load_gold(corpus_dir)}
    return cache[corpus_dir]


def page_key(
    source: str, pages_dir: Path, taken: set[str], gold_cache: dict[Path, set[str]] | None = None
) -> PageKey:
    """Which corpus/id a page's labels are stored under (see the module docstring)."""
    path = Path(source).resolve()
    gold_cache = {} if gold_cache is None else gold_cache
    if path.parent.name == "pages" and path.name.endswith(".html.gz"):
        cdir = path.parent.parent
        pid = path.name[: -len(".html.gz")]
        if (cdir / "gold.jsonl").is_file():
            if pid in _gold_ids(cdir, gold_cache):
                return PageKey(cdir.name, pid, "corpus")
            # e.g. googlenews' *.annotated.html.gz: train never reads it, and a corpus
            # page must not be copied into training_data/
            raise ValueError(f"{source}: a page of corpus {cdir.name} with no row in its "
                             "gold.jsonl; `classifier train` cannot use labels for it")  # fmt: skip
    if path.parent == pages_dir.resolve() and path.suffix == ".html":
        return PageKey("authored", path.stem, "authored")
    stem = path.name
    for suffix in (".gz", ".html", ".htm", ".xhtml"):
        stem = stem.removesuffix(suffix)
    base = COPY_PREFIX + (_SAFE_ID.sub("_", stem).strip("_") or "page")
    pid, k = base, 1
    while pid in taken:  # two inputs named index.html must not share a copy
        k += 1
        pid = f"{base}-{k}"
    return PageKey("authored", pid, "copy")


@dataclass
class LabelPage:
    """One page being labelled: its blocks, the model's view and the starting labels."""

    source: str
    key: PageKey
    title: str
    markup: str  # the decoded page, for the labelled copy
    blocks: list[Block]
    fingerprints: list[str]
    initial: list[str]
    initial_source: list[str | None]  # source of a label already in the out file


def _element_paths(root: etree._Element) -> dict[str, etree._Element]:
    """Element for each xpath the segmenter gives blocks (same counting as segment.py)."""
    body = root.find("body")
    start = body if body is not None else root
    tag = start.tag if isinstance(start.tag, str) else "html"
    out: dict[str, etree._Element] = {"/html": root}
    stack = [(start, "/html/body" if tag == "body" else "/html")]
    while stack:
        el, path = stack.pop()
        out[path] = el
        counts: dict[str, int] = {}
        for child in el:
            ctag = child.tag if isinstance(child.tag, str) else "node()"
            counts[ctag] = counts.get(ctag, 0) + 1
            stack.append((child, f"{path}/{ctag}[{counts[ctag]}]"))
    return out


def labelled_copy(markup: str, labels: Sequence[str]) -> tuple[str, int]:
    """The page as an authored training page: `data-label` on each block's element.

    Returns (html, blocks whose label the copy cannot carry inline). Those are blocks
    sharing an element with a differently labelled block (loose text runs), or blocks
    that re-segment differently; the fingerprint records still carry their labels.
    """
    root = parse(markup)
    if root is None:
        raise ValueError("empty page")
    blocks = segment(root)
    if len(blocks) != len(labels):
        raise ValueError(f"page has {len(blocks)} blocks, got {len(labels)} labels")
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("data-label") is not None:
            del el.attrib["data-label"]
    by_path: dict[str, Counter[str]] = {}
    for b, lab in zip(blocks, labels, strict=True):
        by_path.setdefault(b.xpath, Counter())[lab] += 1
    elements = _element_paths(root)
    for path, votes in by_path.items():
        el = elements.get(path)
        if el is not None:
            el.set("data-label", votes.most_common(1)[0][0])
    head = root.find("head")
    if head is None:
        head = etree.Element("head")
        root.insert(0, head)
    for meta in head.findall("meta"):
        if meta.get("charset") or (meta.get("http-equiv") or "").lower() == "content-type":
            head.remove(meta)
    head.insert(0, etree.Element("meta", charset="utf-8"))
    out = lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")
    again = segment(parse(out))
    misses = sum((b.gold or "boilerplate") != lab for b, lab in zip(again, labels, strict=False))
    misses += abs(len(again) - len(labels))
    return out + "\n", misses


def _read_records(out: Path) -> list[dict]:
    if not out.is_file():
        return []
    load_stored_labels([out])  # validates: a broken file is reported, never overwritten
    return [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n")
            if line.strip()]  # fmt: skip


@dataclass
class SaveResult:
    path: str
    records: int
    pages: list[dict]
    copies: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "records": self.records, "pages": self.pages,
                "copies": self.copies}  # fmt: skip


class LabelSession:
    """The pages being labelled and where their labels go; `save` is thread-safe."""

    def __init__(self, pages: list[LabelPage], out: Path, pages_dir: Path) -> None:
        self.pages = pages
        self.out = Path(out)
        self.pages_dir = Path(pages_dir)
        self._lock = threading.Lock()

    @staticmethod
    def default_pages_dir(out: Path) -> Path:
        """training_data/pages beside training_data/labels/NAME.jsonl, else OUT_DIR/pages."""
        out = Path(out)
        return out.parent.parent / "pages" if out.parent.name == "labels" else out.parent / "pages"

    @classmethod
    def load(
        cls,
        sources: Sequence[str],
        cleaner: Cleaner,
        read: Callable[[str], bytes],
        out: Path,
        pages_dir: Path | None = None,
    ) -> LabelSession:
        """Clean every page and pick up labels already saved in `out` (to resume)."""
        out = Path(out)
        pages_dir = Path(pages_dir) if pages_dir else cls.default_pages_dir(out)
        existing: dict[tuple[str, str], dict[str, dict]] = {}
        for rec in _read_records(out):
            existing.setdefault((str(rec["corpus"]), str(rec["id"])), {})[rec["fingerprint"]] = rec
        taken: set[str] = set()
        gold_cache: dict[Path, set[str]] = {}
        pages: list[LabelPage] = []
        for source in sources:
            if source == "-":
                raise ValueError("label needs files, not stdin")
            key = page_key(source, pages_dir, taken, gold_cache)
            if (key.corpus, key.id) in {(p.key.corpus, p.key.id) for p in pages}:
                continue  # the same page named twice
            taken.add(key.id)
            markup = to_text(read(source))
            page = cleaner.clean(markup)
            fps = [fingerprint(b.text) for b in page.blocks]
            stored = existing.get((key.corpus, key.id), {})
            initial, initial_source = [], []
            for b, fp in zip(page.blocks, fps, strict=True):
                rec = stored.get(fp)
                if rec is not None:
                    initial.append(rec["label"])
                    initial_source.append(rec.get("source", "hand"))
                elif key.kind == "authored":  # the page's own inline label
                    initial.append(b.gold or "boilerplate")
                    initial_source.append(None)
                else:
                    initial.append(b.label)
                    initial_source.append(None)
            pages.append(LabelPage(source, key, page.title, markup, page.blocks, fps,
                                   initial, initial_source))  # fmt: skip
        return cls(pages, out, pages_dir)

    def records_for(
        self, page: LabelPage, labels: Sequence[str], touched: Sequence[bool]
    ) -> list[dict]:
        """Fingerprint records for one page (which blocks: see the module docstring)."""
        recs: dict[str, dict] = {}
        for i, (fp, lab) in enumerate(zip(page.fingerprints, labels, strict=True)):
            was = page.initial_source[i]
            if touched[i] or lab != page.initial[i]:
                source = "hand"
            elif was is not None:
                source = was
            elif page.key.kind == "copy":
                source = "rule-reviewed"  # the model proposed it, the person let it stand
            else:
                continue
            recs[fp] = {"corpus": page.key.corpus, "id": page.key.id, "fingerprint": fp,
                        "label": lab, "source": source}  # fmt: skip
        return list(recs.values())

    def save(self, payload: dict) -> SaveResult:
        """Validate the page's labels, merge them into the out file, write copies."""
        rows = payload.get("pages")
        if not isinstance(rows, list) or len(rows) != len(self.pages):
            raise ValueError(f"expected labels for {len(self.pages)} page(s)")
        todo: list[tuple[LabelPage, list[str], list[bool]]] = []
        for page, row in zip(self.pages, rows, strict=True):
            labels, touched = row.get("labels"), row.get("touched")
            n = len(page.blocks)
            if not isinstance(labels, list) or len(labels) != n:
                raise ValueError(f"{page.source}: expected {n} labels")
            if not isinstance(touched, list) or len(touched) != n:
                raise ValueError(f"{page.source}: expected {n} touched flags")
            bad = [lab for lab in labels if lab not in LABELS]
            if bad:
                raise ValueError(f"unknown label {bad[0]!r}; known: {LABELS}")
            todo.append((page, labels, [bool(t) for t in touched]))
        with self._lock:
            mine = {(p.key.corpus, p.key.id) for p in self.pages}
            kept = [r for r in _read_records(self.out)
                    if (str(r["corpus"]), str(r["id"])) not in mine]  # fmt: skip
            new: list[dict] = []
            summary: list[dict] = []
            copies: list[str] = []
            for page, labels, touched in todo:
                recs = self.records_for(page, labels, touched)
                new.extend(recs)
                info = {"source": page.source, "corpus": page.key.corpus, "id": page.key.id,
                        "kind": page.key.kind, "records": len(recs)}  # fmt: skip
                if page.key.kind == "copy":
                    html, misses = labelled_copy(page.markup, labels)
                    self.pages_dir.mkdir(parents=True, exist_ok=True)
                    target = self.pages_dir / f"{page.key.id}.html"
                    target.write_text(html, encoding="utf-8")
                    copies.append(str(target))
                    info["copy"] = str(target)
                    info["inline_misses"] = misses
                summary.append(info)
            self.out.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.out.with_name(self.out.name + ".tmp")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in kept + new), encoding="utf-8")
            os.replace(tmp, self.out)
            for page, labels, touched in todo:  # what is saved is the new starting point
                for i, rec_src in enumerate(self._sources(page, labels, touched)):
                    page.initial_source[i] = rec_src
                page.initial = list(labels)
        return SaveResult(str(self.out), len(kept) + len(new), summary, copies)

    def _sources(
        self, page: LabelPage, labels: Sequence[str], touched: Sequence[bool]
    ) -> list[str | None]:
        saved = {r["fingerprint"]: r["source"] for r in self.records_for(page, labels, touched)}
        return [saved.get(fp) for fp in page.fingerprints]

    # ------------------------------------------------------------------ the page

    def render(self, token: str, nonce: str) -> str:
        """The labelling page: server-rendered, escaped blocks; a small inline script."""
        sections = []
        for p, page in enumerate(self.pages):
            rows = []
            for i, b in enumerate(page.blocks):
                saved = page.initial_source[i]
                attrs = (f' data-p="{p}" data-fp="{page.fingerprints[i]}"'
                         f' data-model="{esc(b.label)}" data-touched="0"'
                         f' data-saved="{esc(saved or "")}"')  # fmt: skip
                rows.append(block_html(i, page.initial[i], b.confidence, b.tag, b.text, b.why,
                                       extra_attrs=attrs, model_label=b.label))  # fmt: skip
            what = {
                "corpus": f"corpus page {page.key.corpus}/{page.key.id}: saves the blocks you set",
                "authored": f"authored page {page.key.id}: saves the blocks you set",
                "copy": f"saved as authored page {page.key.id}.html with every block's label",
            }[page.key.kind]
            sections.append(
                f'<section class="page" id="page-{p}" data-p="{p}">'
                f"<h2>{esc(page.title or '(untitled)')}</h2>"
                f'<div class="src">{esc(page.source)} &middot; {esc(what)}</div>'
                f'<button type="button" class="confirm" data-p="{p}">mark every block on this '
                "page as checked</button>"
                f'<div class="blocks">{"".join(rows)}</div></section>'
            )
        index = ""
        if len(self.pages) > 1:
            links = "".join(f'<a href="#page-{p}">{p + 1}. {esc(pg.title or pg.source)}</a>'
                            for p, pg in enumerate(self.pages))  # fmt: skip
            index = f'<nav class="index">{links}</nav>'
        buttons = "".join(
            f'<button type="button" class="pick lab-{lab}" data-label="{lab}">'
            f"{KEYS[lab]} {lab}</button>"
            for lab in LABELS
        )
        keys = ", ".join(f"{KEYS[lab]}/{LETTERS[lab]} {lab}" for lab in LABELS)
        csp = (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
               "connect-src 'self'; img-src data:")  # fmt: skip
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            f'<meta name="label-token" content="{token}">'
            "<title>classifier label</title>"
            f"<style>{BASE_CSS}{LABEL_CSS}</style></head><body>"
            "<header><h1>Label blocks</h1>"
            f'<div class="src">saving to {esc(self.out)}</div>{legend_html()}'
            f'<div class="help">Click a block, then a label. Keys: {esc(keys)}; '
            "j/k or arrows move; s saves. Blocks with the same text share one label.</div>"
            '<button type="button" id="save">Save (s)</button> '
            '<button type="button" id="finish">Save and stop the server</button> '
            '<span id="status" role="status">nothing changed yet</span></header>'
            f"{index}{''.join(sections)}"
            f'<div id="menu" hidden>{buttons}</div>'
            f'<script nonce="{nonce}">const KEYMAP = {json.dumps(_keymap())};{LABEL_JS}</script>'
            "</body></html>\n"
        )


def _keymap() -> dict[str, str]:
    out = {KEYS[lab]: lab for lab in LABELS}
    out.update({LETTERS[lab]: lab for lab in LABELS})
    return out


LABEL_CSS = """
header { position: sticky; top: 0; z-index: 10; background: #fff; padding: 6px 0;
         border-bottom: 1px solid #ddd; }
.help { font-size: 12px; color: #555; margin: 2px 0 6px; }
#status { font-size: 13px; margin-left: 8px; }
#status.err { color: #b71c1c; }
.index a { margin-right: 14px; }
.page { margin-top: 16px; }
.blk { cursor: pointer; }
.blk.sel { outline: 2px solid #000; outline-offset: 1px; }
.blk[data-touched="1"] .badge::after, .blk[data-saved="hand"] .badge::after { content: " \\2713"; }
#menu { display: flex; gap: 4px; flex-wrap: wrap; margin: 5px 0 2px; }
#menu[hidden] { display: none; }
.pick { border: 0; border-radius: 3px; padding: 3px 8px; color: #fff;
        background: var(--c); font: 600 12px monospace; cursor: pointer; }
.confirm { font-size: 12px; margin: 4px 0; }
""" + "".join(f".pick.lab-{lab} {{ --c: {c}; }}\n" for lab, c in LABEL_COLOURS.items())

LABEL_JS = r"""
const TOKEN = document.querySelector('meta[name="label-token"]').content;
const menu = document.getElementById('menu');
const statusEl = document.getElementById('status');
const blocks = () => Array.from(document.querySelectorAll('.blk'));
let sel = null;
let dirty = false;
function status(text, err) { statusEl.textContent = text; statusEl.className = err ? 'err' : ''; }
function select(el) {
  if (sel) sel.classList.remove('sel');
  sel = el;
  el.classList.add('sel');
  el.appendChild(menu);
  menu.hidden = false;
  el.scrollIntoView({block: 'nearest'});
}
function relabel(el, lab) {
  const same = document.querySelectorAll(
    '.blk[data-p="' + el.dataset.p + '"][data-fp="' + el.dataset.fp + '"]');
  for (const b of same) {
    b.classList.remove('lab-' + b.dataset.label);
    b.dataset.label = lab;
    b.classList.add('lab-' + lab);
    b.querySelector('.badge').textContent = lab;
    const conf = b.querySelector('.conf');
    conf.dataset.orig = conf.dataset.orig || conf.textContent;
    conf.textContent = lab === b.dataset.model ? conf.dataset.orig
      : 'model said ' + b.dataset.model + ' ' + conf.dataset.orig;
    b.dataset.touched = '1';
  }
  dirty = true;
  status('unsaved changes');
}
function move(step) {
  const all = blocks();
  const i = sel ? all.indexOf(sel) : -1;
  const j = Math.min(all.length - 1, Math.max(0, i + step));
  if (all[j]) select(all[j]);
}
async function save() {
  const pages = Array.from(document.querySelectorAll('section.page')).map((sec) => {
    const bs = Array.from(sec.querySelectorAll('.blk'));
    return {labels: bs.map((b) => b.dataset.label),
            touched: bs.map((b) => b.dataset.touched === '1')};
  });
  status('saving...');
  try {
    const r = await fetch('/api/save', {method: 'POST', body: JSON.stringify({pages}),
      headers: {'Content-Type': 'application/json', 'X-Label-Token': TOKEN}});
    const j = await r.json();
    if (!r.ok) { status('not saved: ' + j.error, true); return false; }
    dirty = false;
    status('saved ' + j.records + ' records to ' + j.path);
    return true;
  } catch (e) { status('not saved: ' + e, true); return false; }
}
document.addEventListener('click', (ev) => {
  const pick = ev.target.closest('.pick');
  if (pick) { if (sel) relabel(sel, pick.dataset.label); ev.stopPropagation(); return; }
  const conf = ev.target.closest('.confirm');
  if (conf) {
    const q = '.blk[data-p="' + conf.dataset.p + '"]';
    for (const b of document.querySelectorAll(q)) b.dataset.touched = '1';
    dirty = true; status('unsaved changes'); return;
  }
  const blk = ev.target.closest('.blk');
  if (blk) select(blk);
});
document.getElementById('save').addEventListener('click', save);
document.getElementById('finish').addEventListener('click', async () => {
  if (!(await save())) return;
  await fetch('/api/finish', {method: 'POST', headers: {'X-Label-Token': TOKEN}});
  status(statusEl.textContent + '; server stopped, you can close this tab');
});
document.addEventListener('keydown', (ev) => {
  if (ev.target.closest('input, textarea')) return;
  if ((ev.key === 's' || ev.key === 'S') && !ev.altKey) {
    ev.preventDefault();
    save();
    return;
  }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === 'j' || ev.key === 'ArrowDown') { ev.preventDefault(); move(1); return; }
  if (ev.key === 'k' || ev.key === 'ArrowUp') { ev.preventDefault(); move(-1); return; }
  const lab = KEYMAP[ev.key];
  if (lab && sel) { relabel(sel, lab); move(1); }
});
window.addEventListener('beforeunload', (ev) => {
  if (dirty) { ev.preventDefault(); ev.returnValue = ''; }
});
"""


# ---------------------------------------------------------------------- server


class LabelServer(ThreadingHTTPServer):
    """The HTTP server for one session, on 127.0.0.1 only; port 0 picks a free port."""

    daemon_threads = True

    def __init__(self, session: LabelSession, port: int = 0, host: str = "127.0.0.1") -> None:
        super().__init__((host, port), _Handler)
        self.session = session
        self.token = secrets.token_urlsafe(18)  # a cross-site page cannot know it

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop_soon(self) -> None:
        """Stop serve_forever from a request handler (which must not block on it)."""
        threading.Thread(target=self.shutdown, daemon=True).start()


class _Handler(BaseHTTPRequestHandler):
    server: LabelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass  # one line per request drowns the URL; errors go back to the page

    def _send(
        self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: object) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), "application/json")

    def _host_ok(self) -> bool:
        # DNS rebinding: a hostile site's name resolving to 127.0.0.1 sends its own Host
        host = self.headers.get("Host", "")
        return host in (f"127.0.0.1:{self.server.port}", f"localhost:{self.server.port}")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if not self._host_ok():
            self._json(HTTPStatus.FORBIDDEN, {"error": "unexpected Host header"})
            return
        path = self.path.split("?", 1)[0]
        if path == "/":
            nonce = secrets.token_urlsafe(12)
            html = self.server.session.render(self.server.token, nonce)
            self._send(HTTPStatus.OK, html.encode("utf-8"), "text/html; charset=utf-8")
        elif path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if not self._host_ok():
            self._json(HTTPStatus.FORBIDDEN, {"error": "unexpected Host header"})
            return
        if not secrets.compare_digest(self.headers.get("X-Label-Token", ""), self.server.token):
            self._json(HTTPStatus.FORBIDDEN, {"error": "missing or wrong token"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request too large"})
            return
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if path == "/api/finish":
            self._json(HTTPStatus.OK, {"stopping": True})
            self.server.stop_soon()
        elif path == "/api/save":
            try:
                payload = json.loads(body or b"null")
                if not isinstance(payload, dict):
                    raise ValueError("expected a JSON object")
                result = self.server.session.save(payload)
            except ValueError as exc:  # includes JSONDecodeError
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                return
            self._json(HTTPStatus.OK, result.to_dict())
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})


def serve(
    session: LabelSession,
    port: int = 0,
    echo: Callable[[str], None] = print,
    open_browser: bool = False,
) -> None:
    """Serve until Ctrl-C or the page's "stop" button; prints the URL first."""
    server = LabelServer(session, port=port)
    echo(f"Labelling {len(session.pages)} page(s) at {server.url}")
    echo(f"Labels are saved to {session.out}; press Ctrl-C to stop.")
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        echo("stopped")
    finally:
        server.server_close()
