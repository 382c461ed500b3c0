"""Browser tests: the report and the labelling page in a real headless Chromium.

Needs Debian's ``chromium`` + ``chromium-driver`` and the ``selenium`` package
(``pip install '.[browser]'``); ``.ci/run`` installs all three. Without them these
tests skip locally, and fail under CI (``CI`` set) so that CI can never pass by
skipping them. ``UPDATE_DOCS=1 pytest tests/test_browser.py -k screenshot`` rewrites
docs/report.png, the README's picture, from the seed page and the shipped model.
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import threading
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, SEED_PAGES, TINY_ARTICLES, write_tiny_corpus
from typer.testing import CliRunner

from classifier import Cleaner
from classifier.cli import _read, app
from classifier.label_server import LabelServer, LabelSession
from classifier.labels import fingerprint
from classifier.model import LABELS
from classifier.report import LABEL_COLOURS, ReportPage, build_report, render_report

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")  # fmt: skip
WORDPRESS = next(p for p in SEED_PAGES if p.name == "seed_wordpress.html")
runner = CliRunner()


def _missing() -> str | None:
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install '.[browser]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).is_file():
            return f"{path} not found (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module, with a fresh profile."""
    why = _missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    opts.add_argument("--window-size=1280,900")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def css(driver, el, prop: str) -> str:
    return driver.execute_script(f"return getComputedStyle(arguments[0])['{prop}'];", el)


def wait(driver, cond, timeout: float = 10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: cond(d))


def hover(driver, el) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    ActionChains(driver).move_to_element(el).perform()


def by_css(root, selector: str):
    from selenium.webdriver.common.by import By

    return root.find_elements(By.CSS_SELECTOR, selector)


# ------------------------------------------------------------------------ report


@pytest.fixture(scope="module")
def cleaner(tiny_model_path) -> Cleaner:
    return Cleaner(model=tiny_model_path, explain=True)


def test_report_renders_labels_colours_and_hover(browser, cleaner, tmp_path):
    pages, _ = build_report([str(WORDPRESS), str(SEED_PAGES[0])], cleaner, _read)
    out = tmp_path / "report.html"
    out.write_text(render_report(pages), encoding="utf-8")
    browser.get(out.as_uri())
    first = pages[0].page
    blocks = by_css(browser, "#page-1 .blk")
    assert len(blocks) == len(first.blocks)
    for el, b in zip(blocks, first.blocks, strict=True):
        assert el.get_attribute("data-label") == b.label
    # colours as a person sees them: one per label, on border and badge
    seen = Counter()
    for el in blocks:
        lab = el.get_attribute("data-label")
        if seen[lab] < 3:
            assert css(browser, el, "borderLeftColor") == rgb(LABEL_COLOURS[lab])
            badge = by_css(el, ".badge")[0]
            assert badge.text == lab
            assert css(browser, badge, "backgroundColor") == rgb(LABEL_COLOURS[lab])
        seen[lab] += 1
    assert seen == Counter(b.label for b in first.blocks)
    # the top features show on hover only
    k = next(i for i, b in enumerate(first.blocks) if b.why)
    tip = by_css(blocks[k], ".why")[0]
    assert not tip.is_displayed()
    hover(browser, blocks[k])
    wait(browser, lambda d: tip.is_displayed())
    assert first.blocks[k].why[0] in tip.text
    # chart bars drawn in the label colours; the index jumps to the second page
    for bar in by_css(browser, "#page-1 rect.bar"):
        assert bar.get_attribute("fill") == LABEL_COLOURS[bar.get_attribute("data-label")]
    by_css(browser, 'nav a[href="#page-2"]')[0].click()
    wait(browser, lambda d: d.execute_script(
        "return Math.abs(document.getElementById('page-2').getBoundingClientRect().top) < 5;"
    ))  # fmt: skip
    # self-contained: nothing fetched, nothing blocked
    assert browser.execute_script("return performance.getEntriesByType('resource').length;") == 0
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe


# ------------------------------------------------------------------------ label page


@pytest.fixture()
def label_server(cleaner, tmp_path):
    corpus = write_tiny_corpus(tmp_path / "corpora")
    td = tmp_path / "training_data"
    out = td / "labels" / "mine.jsonl"
    sources = [str(corpus / "pages" / "c.html.gz"), str(WORDPRESS)]
    session = LabelSession.load(sources, cleaner, _read, out)
    server = LabelServer(session, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.thread = thread  # type: ignore[attr-defined]
    server.corpus = corpus  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_label_page_click_relabels_saves_and_train_accepts(
    browser, label_server, monkeypatch, tmp_path
):
    session = label_server.session
    browser.get(label_server.url)
    corpus_page, other_page = session.pages
    # 1. click a corpus block, then the donation_appeal button
    target = TINY_ARTICLES["c"][0]
    i = next(k for k, b in enumerate(corpus_page.blocks) if b.text == target)
    blk = by_css(browser, f'.blk[data-p="0"][data-i="{i}"]')[0]
    assert blk.get_attribute("data-label") == corpus_page.initial[i]
    blk.click()
    menu = browser.find_element("id", "menu")
    assert menu.is_displayed()
    by_css(menu, '.pick[data-label="donation_appeal"]')[0].click()
    assert blk.get_attribute("data-label") == "donation_appeal"
    assert by_css(blk, ".badge")[0].text.startswith("donation_appeal")
    assert css(browser, blk, "borderLeftColor") == rgb(LABEL_COLOURS["donation_appeal"])
    model_said = corpus_page.blocks[i].label
    if model_said != "donation_appeal":
        assert by_css(blk, ".conf")[0].text.startswith(f"model said {model_said}")
    # 2. keyboard: select a block of the other page, press 3 (related_links)
    paths = Counter(b.xpath for b in other_page.blocks)
    k = next(n for n, b in enumerate(other_page.blocks)
             if paths[b.xpath] == 1 and b.label != "related_links")  # fmt: skip
    blk2 = by_css(browser, f'.blk[data-p="1"][data-i="{k}"]')[0]
    blk2.click()
    browser.switch_to.active_element.send_keys(str(LABELS.index("related_links") + 1))
    assert blk2.get_attribute("data-label") == "related_links"
    after = by_css(browser, f'.blk[data-p="1"][data-i="{k + 1}"]')[0]
    assert "sel" in after.get_attribute("class").split()  # selection moved on
    # 3. save with the key, wait for the page to say so
    browser.switch_to.active_element.send_keys("s")
    status = browser.find_element("id", "status")
    wait(browser, lambda d: status.text.startswith("saved"))
    rows = [json.loads(line) for line in session.out.read_text().splitlines()]
    hand = {(r["corpus"], r["id"], r["fingerprint"]): r["label"] for r in rows
            if r["source"] == "hand"}  # fmt: skip
    assert hand == {
        ("tiny", "c", fingerprint(target)): "donation_appeal",
        ("authored", "label_seed_wordpress", other_page.fingerprints[k]): "related_links",
    }
    copy = session.pages_dir / "label_seed_wordpress.html"
    assert copy.is_file()
    # 4. `classifier train` accepts the saved file (this checkout = tmp training_data)
    import classifier.train as train_mod

    monkeypatch.setattr(train_mod, "TRAINING_DATA", session.out.parent.parent)
    model = tmp_path / "m.joblib"
    result = runner.invoke(app, ["train", "--corpus", str(label_server.corpus), "--labels",
                                 str(session.out), "--output", str(model),
                                 "--no-page-metrics", "--jobs", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    by = json.loads(model.with_suffix(".card.json").read_text())["training_data"][
        "by_corpus_source_label"
    ]
    assert by["tiny / hand / donation_appeal"] == 1
    assert by["authored / hand / related_links"] >= 1
    # 5. "Save and stop" stops the server
    browser.find_element("id", "finish").click()
    label_server.thread.join(10)
    assert not label_server.thread.is_alive()


# ------------------------------------------------------------------------ README picture


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_screenshot_of_the_report(browser, tmp_path):
    """The README's picture: the seed page with the shipped model, one block hovered."""
    shipped = Cleaner(explain=True)
    pages, failed = build_report([str(WORDPRESS)], shipped, _read)
    assert failed == 0
    html = render_report([ReportPage("tests/fixtures/seed_wordpress.html", pages[0].page)],
                         model_name=shipped.model.card.get("name", ""))  # fmt: skip
    report = tmp_path / "report.html"
    report.write_text(html, encoding="utf-8")
    browser.set_window_size(1200, 1250)
    browser.get(report.as_uri())
    labels = [b.label for b in pages[0].page.blocks]
    # the first block that is neither content nor boilerplate: a tooltip worth showing
    k = next((i for i, lab in enumerate(labels) if lab not in ("content", "boilerplate")), 0)
    blk = by_css(browser, f'.blk[data-i="{k}"]')[0]
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element(blk).perform()  # no scrolling: keep the header
    tip = by_css(blk, ".why")[0]
    wait(browser, lambda d: tip.is_displayed())
    target = REPO / "docs" / "report.png" if os.environ.get("UPDATE_DOCS") else tmp_path / "r.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(target))
    width, height = _png_size(target)
    assert width >= 1000 and height >= 700
