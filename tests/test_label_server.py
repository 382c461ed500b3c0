"""`classifier label`: page keys, the saved file, the labelled copy, the HTTP server,
and that `classifier train` accepts what was saved. No browser here (test_browser.py
drives the page itself); requests go to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from conftest import AUTHORED_PAGES, SEED_PAGES, TINY_ARTICLES, train_tiny, write_tiny_corpus
from typer.testing import CliRunner

from classifier import Cleaner
from classifier.cli import _read, app
from classifier.decode import parse
from classifier.label_server import (
    LabelServer,
    LabelSession,
    PageKey,
    labelled_copy,
    page_key,
)
from classifier.labels import fingerprint, load_stored_labels
from classifier.segment import segment

runner = CliRunner()


@pytest.fixture(scope="module")
def cleaner(tiny_model_path) -> Cleaner:
    return Cleaner(model=tiny_model_path, explain=True)


@pytest.fixture()
def corpus(tmp_path) -> Path:
    return write_tiny_corpus(tmp_path / "corpora")


@pytest.fixture()
def td(tmp_path) -> Path:
    """An empty training_data/ (labels/ + pages/) of a checkout."""
    (tmp_path / "training_data" / "labels").mkdir(parents=True)
    (tmp_path / "training_data" / "pages").mkdir()
    return tmp_path / "training_data"


def _session(cleaner, sources, out) -> LabelSession:
    return LabelSession.load([str(s) for s in sources], cleaner, _read, out)


def _payload(session: LabelSession) -> dict:
    return {"pages": [{"labels": list(p.initial), "touched": [False] * len(p.blocks)}
                      for p in session.pages]}  # fmt: skip


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------------ keys


def test_page_keys(corpus, td, tmp_path):
    pages = td / "pages"
    shutil.copy(AUTHORED_PAGES / "en_recipe_lentil_soup.html", pages)
    taken: set[str] = set()
    assert page_key(str(corpus / "pages" / "a.html.gz"), pages, taken) == PageKey(
        "tiny", "a", "corpus"
    )
    authored = page_key(str(pages / "en_recipe_lentil_soup.html"), pages, taken)
    assert (authored.corpus, authored.id, authored.kind) == (
        "authored", "en_recipe_lentil_soup", "authored"
    )  # fmt: skip
    other = page_key(str(SEED_PAGES[0]), pages, taken)
    assert (other.corpus, other.id, other.kind) == ("authored", "label_seed_modern", "copy")
    taken.add(other.id)
    again = page_key(str(tmp_path / "x" / "seed_modern.html"), pages, taken)
    assert again.id == "label_seed_modern-2"
    # a corpus page with no gold row (googlenews' *.annotated.html.gz): refused, not copied
    (corpus / "pages" / "zz.html.gz").write_bytes((corpus / "pages" / "a.html.gz").read_bytes())
    with pytest.raises(ValueError, match="no row in its gold.jsonl"):
        page_key(str(corpus / "pages" / "zz.html.gz"), pages, set())
    # the same bytes outside a corpus layout are a page like any other
    (tmp_path / "zz.html.gz").write_bytes((corpus / "pages" / "a.html.gz").read_bytes())
    assert page_key(str(tmp_path / "zz.html.gz"), pages, set()).id == "label_zz"
    hostile = page_key("/tmp/../tmp/a b;<x>.html", pages, set())
    assert re.fullmatch(r"label_[A-Za-z0-9_-]+", hostile.id)


# ------------------------------------------------------------------------ copies


@pytest.mark.parametrize("path", SEED_PAGES, ids=lambda p: p.name)
def test_labelled_copy_carries_every_label_inline(cleaner, path):
    page = cleaner.clean(path.read_bytes())
    labels = [b.label for b in page.blocks]
    paths = Counter(b.xpath for b in page.blocks)
    k = next(i for i, b in enumerate(page.blocks) if paths[b.xpath] == 1 and b.label != "content")
    labels[k] = "content"  # a label the model did not give
    html, misses = labelled_copy(path.read_bytes().decode("utf-8"), labels)
    assert misses == 0
    again = segment(parse(html))
    assert [b.text for b in again] == [b.text for b in page.blocks]
    assert [b.gold for b in again] == labels
    assert '<meta charset="utf-8">' in html


def test_labelled_copy_counts_blocks_it_cannot_carry_inline(cleaner):
    # seed_modern: "Frontline Digest" and "Sign in" are loose text of one <header>
    src = SEED_PAGES[0].read_text(encoding="utf-8")
    blocks = segment(parse(src))
    assert blocks[0].xpath == blocks[2].xpath
    labels = ["boilerplate"] * len(blocks)
    labels[0] = "content"
    _, misses = labelled_copy(src, labels)
    assert misses == 1  # the fingerprint records carry that one


def test_labelled_copy_replaces_inline_labels_of_the_original(cleaner):
    src = (AUTHORED_PAGES / "en_recipe_lentil_soup.html").read_text(encoding="utf-8")
    n = len(segment(parse(src)))
    html, misses = labelled_copy(src, ["boilerplate"] * n)
    assert misses == 0
    assert {b.gold for b in segment(parse(html))} == {"boilerplate"}


# ------------------------------------------------------------------------ saving


def test_save_corpus_page_keeps_only_touched_blocks(cleaner, corpus, td):
    out = td / "labels" / "mine.jsonl"
    session = _session(cleaner, [corpus / "pages" / "c.html.gz"], out)
    payload = _payload(session)
    first = TINY_ARTICLES["c"][0]
    i = next(k for k, b in enumerate(session.pages[0].blocks) if b.text == first)
    payload["pages"][0]["labels"][i] = "donation_appeal"
    payload["pages"][0]["touched"][i] = True
    result = session.save(payload)
    assert result.records == 1 and not result.copies
    assert _rows(out) == [{"corpus": "tiny", "id": "c", "fingerprint": fingerprint(first),
                           "label": "donation_appeal", "source": "hand"}]  # fmt: skip
    assert not list((td / "pages").iterdir())  # corpus pages are never copied
    # reopening shows the saved label; saving untouched keeps it
    again = _session(cleaner, [corpus / "pages" / "c.html.gz"], out)
    assert again.pages[0].initial[i] == "donation_appeal"
    again.save(_payload(again))
    assert len(_rows(out)) == 1 and _rows(out)[0]["source"] == "hand"


def test_save_other_page_writes_every_block_and_a_labelled_copy(cleaner, td):
    out = td / "labels" / "mine.jsonl"
    session = _session(cleaner, [SEED_PAGES[0]], out)
    page = session.pages[0]
    payload = _payload(session)
    paths = Counter(b.xpath for b in page.blocks)
    k = next(i for i, b in enumerate(page.blocks) if paths[b.xpath] == 1)
    payload["pages"][0]["labels"][k] = "related_links"
    payload["pages"][0]["touched"][k] = True
    result = session.save(payload)
    assert result.pages[0]["inline_misses"] == 0
    rows = _rows(out)
    fps = {fingerprint(b.text) for b in page.blocks}
    assert {r["fingerprint"] for r in rows} == fps
    assert all(r["corpus"] == "authored" and r["id"] == "label_seed_modern" for r in rows)
    by_fp = {r["fingerprint"]: r for r in rows}
    assert by_fp[page.fingerprints[k]]["label"] == "related_links"
    assert by_fp[page.fingerprints[k]]["source"] == "hand"
    assert {r["source"] for r in rows} == {"hand", "rule-reviewed"}
    copy = td / "pages" / "label_seed_modern.html"
    assert result.copies == [str(copy)]
    gold = [b.gold for b in segment(parse(copy.read_bytes()))]
    assert gold == payload["pages"][0]["labels"]
    assert load_stored_labels([out])  # the file reads back as training labels


def test_save_merges_with_other_pages_in_the_file(cleaner, corpus, td):
    out = td / "labels" / "mine.jsonl"
    other = {"corpus": "dragnet", "id": "7", "fingerprint": "0" * 16, "label": "content",
             "source": "hand"}  # fmt: skip
    out.write_text(json.dumps(other) + "\n")
    session = _session(cleaner, [corpus / "pages" / "a.html.gz"], out)
    payload = _payload(session)
    payload["pages"][0]["touched"] = [True] * len(session.pages[0].blocks)
    session.save(payload)
    rows = _rows(out)
    assert rows[0] == other
    assert {r["id"] for r in rows[1:]} == {"a"} and len(rows) > 3


@pytest.mark.parametrize(
    "payload, error",
    [
        ({}, "expected labels for 1 page"),
        ({"pages": [{"labels": ["content"], "touched": [True]}]}, "expected"),
        ("bad-label", "unknown label 'spam'"),
    ],
)
def test_save_rejects_bad_payloads_and_leaves_the_file(cleaner, td, payload, error):
    out = td / "labels" / "mine.jsonl"
    out.write_text("")
    session = _session(cleaner, [SEED_PAGES[1]], out)
    if payload == "bad-label":
        payload = _payload(session)
        payload["pages"][0]["labels"][0] = "spam"
    with pytest.raises(ValueError, match=error):
        session.save(payload)
    assert out.read_text() == ""


def test_a_broken_out_file_is_reported_not_overwritten(cleaner, td):
    out = td / "labels" / "mine.jsonl"
    out.write_text('{"corpus": "x", "id": "1", "fingerprint": "ab", "label": "nope"}\n')
    with pytest.raises(ValueError, match="unknown label"):
        _session(cleaner, [SEED_PAGES[1]], out)


# ------------------------------------------------------------------------ train accepts


def test_train_accepts_the_saved_file(cleaner, corpus, td, monkeypatch):
    """Both routes: corpus records (with --corpus) and an authored copy (training_data)."""
    out = td / "labels" / "mine.jsonl"
    session = _session(cleaner, [corpus / "pages" / "c.html.gz", SEED_PAGES[0]], out)
    payload = _payload(session)
    first = TINY_ARTICLES["c"][1]
    i = next(k for k, b in enumerate(session.pages[0].blocks) if b.text == first)
    payload["pages"][0]["labels"][i] = "donation_appeal"
    payload["pages"][0]["touched"][i] = True
    payload["pages"][1]["labels"][0] = "counter_widget"
    payload["pages"][1]["touched"][0] = True
    session.save(payload)
    import classifier.train as train_mod

    monkeypatch.setattr(train_mod, "TRAINING_DATA", td)  # this checkout's training_data
    model = td.parent / "m.joblib"
    result = runner.invoke(app, ["train", "--corpus", str(corpus), "--labels", str(out),
                                 "--output", str(model), "--no-page-metrics",
                                 "--jobs", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    card = json.loads(model.with_suffix(".card.json").read_text())
    data = card["training_data"]
    assert data["pages"] == {"authored": 1, "tiny": 3}
    by = data["by_corpus_source_label"]
    assert by["tiny / hand / donation_appeal"] == 1
    assert by["authored / hand / counter_widget"] == 1
    n = len(session.pages[1].blocks)
    assert sum(v for k, v in by.items() if k.startswith("authored / rule-reviewed")) == n - 1


def test_stored_labels_override_an_authored_pages_inline_labels(td, tmp_path):
    src = AUTHORED_PAGES / "en_recipe_lentil_soup.html"
    shutil.copy(src, td / "pages")
    # two more pages, so that each half of train's site split has one (seed 0)
    for name in ("en_docs_seealso.html", "en_blog_noclass_hiking.html"):
        shutil.copy(AUTHORED_PAGES / name, td / "pages")
    blocks = segment(parse(src.read_bytes()))
    target = next(b for b in blocks if (b.gold or "boilerplate") == "content")
    rec = {"corpus": "authored", "id": src.stem, "fingerprint": fingerprint(target.text),
           "label": "related_links", "source": "hand"}  # fmt: skip
    labels = tmp_path / "l.jsonl"
    labels.write_text(json.dumps(rec) + "\n")
    run = train_tiny(tmp_path / "m.joblib", label_paths=[labels], pages_dir=td / "pages")
    by = run.model.card["training_data"]["by_corpus_source_label"]
    assert by["authored / hand / related_links"] == 1


# ------------------------------------------------------------------------ server


@pytest.fixture()
def server(cleaner, td):
    session = _session(cleaner, [SEED_PAGES[1]], td / "labels" / "mine.jsonl")
    srv = LabelServer(session, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.thread = thread  # type: ignore[attr-defined]
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def _request(srv, method, path, body=None, headers=None, host=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    hdrs = {"Host": host or f"127.0.0.1:{srv.port}", **(headers or {})}
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp.getheader("Content-Security-Policy") or "", data


def test_server_binds_loopback_on_a_free_port(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}/"


def test_server_serves_the_page_with_every_block(server):
    status, _, data = _request(server, "GET", "/")
    assert status == 200
    html = data.decode("utf-8")
    page = server.session.pages[0]
    assert html.count('class="blk ') == len(page.blocks)
    assert f'content="{server.token}"' in html
    assert "https://" not in html and "http://" not in html
    status, _, _ = _request(server, "GET", "/", host="evil.example:80")
    assert status == 403  # DNS rebinding


def test_server_save_needs_the_token(server):
    body = json.dumps(_payload(server.session)).encode()
    status, _, data = _request(server, "POST", "/api/save", body)
    assert status == 403
    assert not server.session.out.exists()
    status, _, data = _request(server, "POST", "/api/save", body,
                               {"X-Label-Token": server.token})  # fmt: skip
    assert status == 200, data
    assert json.loads(data)["records"] == len(server.session.pages[0].blocks)
    status, _, data = _request(server, "POST", "/api/save", b"{not json",
                               {"X-Label-Token": server.token})  # fmt: skip
    assert status == 400


def test_server_finish_stops_it(server):
    status, _, _ = _request(server, "POST", "/api/finish", b"", {"X-Label-Token": server.token})
    assert status == 200
    server.thread.join(5)  # serve_forever returned by itself
    assert not server.thread.is_alive()


def test_cli_label_serves_prints_url_and_stops(tmp_path, tiny_model_path):
    """The real command in a subprocess: URL on stdout, page served, stop button works."""
    out = tmp_path / "training_data" / "labels" / "x.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "classifier.cli", "label", str(SEED_PAGES[1]), "--out", str(out),
         "--model", str(tiny_model_path), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line + proc.stderr.read()
        port = int(match.group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        html = conn.getresponse().read().decode()
        token = re.search(r'name="label-token" content="([^"]+)"', html).group(1)
        conn.request("POST", "/api/finish", body=b"", headers={"X-Label-Token": token})
        assert conn.getresponse().status == 200
        conn.close()
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_label_errors(tmp_path, tiny_model_path):
    result = runner.invoke(app, ["label", str(tmp_path / "nope.html"), "--out",
                                 str(tmp_path / "x.jsonl"), "--model", str(tiny_model_path)])
    assert result.exit_code == 2 and "error" in result.stderr
    result = runner.invoke(app, ["label", "--help"])
    assert result.exit_code == 0 and "--out" in result.stdout
