"""Scrapy item pipeline, with Scrapy's own objects (crawler, settings, items, responses).

No network: responses are built in memory, and the end-to-end crawl fetches a data: URL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from integration_helpers import SEED, SEED_APPEAL, SEED_PARAGRAPH

from classifier.integrations.scrapy import CleanPipeline
from classifier.model import DEFAULT_MODEL

scrapy = pytest.importorskip("scrapy")
get_crawler = pytest.importorskip("scrapy.utils.test").get_crawler
HtmlResponse = scrapy.http.HtmlResponse

URL = "https://news.example.org/nato-talks"


class Article(scrapy.Item):
    url = scrapy.Field()
    body = scrapy.Field()
    clean = scrapy.Field()
    headline = scrapy.Field()
    paywalled = scrapy.Field()
    labels = scrapy.Field()


def seed_response() -> HtmlResponse:
    return HtmlResponse(url=URL, body=SEED.read_bytes(), encoding="utf-8")


@pytest.fixture(scope="module")
def configured(tiny_model_path):
    """A pipeline built by Scrapy's crawler from CLASSIFIER_* settings."""
    crawler = get_crawler(settings_dict={
        "CLASSIFIER_HTML_FIELD": "body",
        "CLASSIFIER_TEXT_FIELD": "clean",
        "CLASSIFIER_TITLE_FIELD": "headline",
        "CLASSIFIER_PAYWALL_FIELD": "paywalled",
        "CLASSIFIER_LABELS_FIELD": "labels",
        "CLASSIFIER_MODEL": str(tiny_model_path),
    })  # fmt: skip
    crawler.stats.open_spider()
    return crawler, CleanPipeline.from_crawler(crawler)


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="no shipped model in models/")
def test_defaults_fill_article_text_from_html():
    item = {"url": URL, "html": seed_response().text}
    out = CleanPipeline().process_item(item)
    assert out is item
    assert SEED_PARAGRAPH in item["article_text"]
    assert SEED_APPEAL not in item["article_text"]
    assert item["html"]  # kept unless CLASSIFIER_DROP_HTML
    assert set(item) == {"url", "html", "article_text"}  # optional fields stay off


def test_settings_name_the_fields_of_a_scrapy_item(configured):
    crawler, pipeline = configured
    response = seed_response()
    item = Article(url=response.url, body=response.body)  # bytes work as well as str
    pipeline.process_item(item, crawler.spider)  # older Scrapy passes the spider
    assert SEED_PARAGRAPH in item["clean"] and SEED_APPEAL not in item["clean"]
    assert item["headline"].startswith("NATO, Ukraine convene emergency talks")
    assert item["paywalled"] is False
    assert item["labels"]["content"] >= 5 and item["labels"]["donation_appeal"] >= 1
    assert sum(item["labels"].values()) == len(pipeline.cleaner.clean(response.body).blocks)
    assert crawler.stats.get_value("classifier/pages") >= 1


def test_keep_setting_and_drop_html(tiny_model_path):
    crawler = get_crawler(settings_dict={
        "CLASSIFIER_MODEL": str(tiny_model_path),
        "CLASSIFIER_KEEP": "content,donation_appeal",
        "CLASSIFIER_DROP_HTML": True,
    })  # fmt: skip
    pipeline = CleanPipeline.from_crawler(crawler)
    item = pipeline.process_item({"html": SEED.read_text(encoding="utf-8")})
    assert SEED_PARAGRAPH in item["article_text"] and SEED_APPEAL in item["article_text"]
    assert "html" not in item


def test_items_without_html_pass_through(configured):
    crawler, pipeline = configured
    before = crawler.stats.get_value("classifier/items_without_html", 0)
    item = {"author": "someone", "url": URL}
    assert pipeline.process_item(item) == {"author": "someone", "url": URL}
    assert crawler.stats.get_value("classifier/items_without_html") == before + 1


def test_an_item_without_the_text_field_says_what_to_declare(tiny_model_path):
    class Bare(scrapy.Item):
        html = scrapy.Field()

    pipeline = CleanPipeline(model=tiny_model_path)
    with pytest.raises(KeyError, match="declare article_text = scrapy.Field()"):
        pipeline.process_item(Bare(html=SEED.read_bytes()))


def test_unknown_keep_label_fails_at_start_up(tiny_model_path):
    crawler = get_crawler(settings_dict={"CLASSIFIER_MODEL": str(tiny_model_path),
                                         "CLASSIFIER_KEEP": ["content", "ads"]})  # fmt: skip
    with pytest.raises(ValueError, match="unknown labels"):
        CleanPipeline.from_crawler(crawler)


SPIDER = """
import base64, sys
import scrapy
from scrapy.crawler import CrawlerProcess

html, model, feed = sys.argv[1:4]

class Seed(scrapy.Spider):
    name = "seed"
    data = base64.b64encode(open(html, "rb").read()).decode()
    start_urls = ["data:text/html;charset=utf-8;base64," + data]

    def parse(self, response):
        yield {"url": "https://news.example.org/nato-talks", "html": response.text}

process = CrawlerProcess(settings={
    "ITEM_PIPELINES": {"classifier.integrations.scrapy.CleanPipeline": 300},
    "CLASSIFIER_MODEL": model,
    "CLASSIFIER_PAYWALL_FIELD": "paywalled",
    "CLASSIFIER_DROP_HTML": True,
    "FEEDS": {feed: {"format": "json"}},
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "URLLENGTH_LIMIT": 0,  # the page travels in a data: URL
})
process.crawl(Seed)
process.start()
"""


def test_a_real_crawl_runs_the_pipeline_from_item_pipelines(tmp_path, tiny_model_path):
    script = tmp_path / "crawl.py"
    script.write_text(textwrap.dedent(SPIDER), encoding="utf-8")
    feed = tmp_path / "items.json"
    proc = subprocess.run(
        [sys.executable, str(script), str(SEED), str(tiny_model_path), str(feed)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    items = json.loads(feed.read_text(encoding="utf-8"))
    assert len(items) == 1, proc.stderr
    assert set(items[0]) == {"url", "article_text", "paywalled"}
    assert SEED_PARAGRAPH in items[0]["article_text"]
    assert SEED_APPEAL not in items[0]["article_text"]
