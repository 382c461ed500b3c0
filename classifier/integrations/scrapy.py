"""Scrapy item pipeline: clean the item's HTML field into its article text.

    # settings.py
    ITEM_PIPELINES = {"classifier.integrations.scrapy.CleanPipeline": 300}
    CLASSIFIER_HTML_FIELD = "html"             # where the spider put response.text / .body
    CLASSIFIER_TEXT_FIELD = "article_text"     # where the article body goes
    CLASSIFIER_PAYWALL_FIELD = "paywalled"     # optional (default: not added)
    CLASSIFIER_LABELS_FIELD = "label_counts"   # optional: {"content": 9, "boilerplate": 36, ...}

Other settings: CLASSIFIER_URL_FIELD ("url", passed on to the cleaner),
CLASSIFIER_TITLE_FIELD (None), CLASSIFIER_KEEP (["content"]), CLASSIFIER_MODEL (a model
file; default the shipped one), CLASSIFIER_DROP_HTML (False: remove the raw HTML once
cleaned, so feeds do not carry it). Items without the HTML field pass through untouched,
so one pipeline can sit in a project that also yields other kinds of items.

Cleaning runs in the reactor thread: it is CPU-bound Python (~25 ms a page), so a
thread pool would not add throughput under the GIL, and it is small next to download
latency. The model is loaded once, when the pipeline is built, so a bad
CLASSIFIER_MODEL fails the crawl at start-up rather than at the first item.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..clean import Cleaner
from ..model import Model
from . import require

SETTINGS_DEFAULTS: dict[str, Any] = {
    "CLASSIFIER_HTML_FIELD": "html",
    "CLASSIFIER_TEXT_FIELD": "article_text",
    "CLASSIFIER_URL_FIELD": "url",
    "CLASSIFIER_TITLE_FIELD": None,
    "CLASSIFIER_PAYWALL_FIELD": None,
    "CLASSIFIER_LABELS_FIELD": None,
    "CLASSIFIER_KEEP": ["content"],
    "CLASSIFIER_MODEL": None,
    "CLASSIFIER_DROP_HTML": False,
}


class CleanPipeline:
    """Adds the cleaned article text (and optionally title, paywall flag, label counts)."""

    def __init__(
        self,
        *,
        html_field: str = "html",
        text_field: str = "article_text",
        url_field: str | None = "url",
        title_field: str | None = None,
        paywall_field: str | None = None,
        labels_field: str | None = None,
        keep: Iterable[str] | None = None,
        model: Model | str | Path | None = None,
        drop_html: bool = False,
        stats: Any = None,
    ) -> None:
        self._adapter = require("itemadapter", "scrapy").ItemAdapter
        self.html_field = html_field
        self.text_field = text_field
        self.url_field = url_field
        self.title_field = title_field
        self.paywall_field = paywall_field
        self.labels_field = labels_field
        self.drop_html = drop_html
        self.stats = stats
        self.cleaner = Cleaner(model=model, keep=set(keep) if keep else None)

    @classmethod
    def from_crawler(cls, crawler: Any) -> CleanPipeline:
        """Build from the crawler's CLASSIFIER_* settings (see the module docstring)."""
        s = crawler.settings

        def get(name: str) -> Any:
            return s.get(name, SETTINGS_DEFAULTS[name])

        return cls(
            html_field=get("CLASSIFIER_HTML_FIELD"),
            text_field=get("CLASSIFIER_TEXT_FIELD"),
            url_field=get("CLASSIFIER_URL_FIELD"),
            title_field=get("CLASSIFIER_TITLE_FIELD"),
            paywall_field=get("CLASSIFIER_PAYWALL_FIELD"),
            labels_field=get("CLASSIFIER_LABELS_FIELD"),
            keep=s.getlist("CLASSIFIER_KEEP", SETTINGS_DEFAULTS["CLASSIFIER_KEEP"]),
            model=get("CLASSIFIER_MODEL"),
            drop_html=s.getbool("CLASSIFIER_DROP_HTML", False),
            stats=crawler.stats,
        )

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"classifier/{key}")

    def process_item(self, item: Any, spider: Any = None) -> Any:
        """Clean `item[html_field]` into `item[text_field]`; other items pass through.

        (`spider` is optional: Scrapy >= 2.13 no longer passes it, older versions do.)
        """
        adapter = self._adapter(item)
        html = adapter.get(self.html_field)
        if html is None:
            self._inc("items_without_html")
            return item
        url = adapter.get(self.url_field) if self.url_field else None
        page = self.cleaner.clean(html, url=url if isinstance(url, str) else None)
        values: dict[str, Any] = {self.text_field: page.text}
        if self.title_field:
            values[self.title_field] = page.title
        if self.paywall_field:
            values[self.paywall_field] = page.paywalled
        if self.labels_field:
            values[self.labels_field] = dict(Counter(b.label for b in page.blocks))
        for field, value in values.items():
            try:
                adapter[field] = value
            except KeyError as exc:  # a scrapy.Item without that Field
                raise KeyError(
                    f"{type(item).__name__} has no field {field!r}: declare "
                    f"{field} = scrapy.Field() or change the CLASSIFIER_*_FIELD setting"
                ) from exc
        if self.drop_html:
            del adapter[self.html_field]
        self._inc("pages")
        if page.paywalled:
            self._inc("paywalled")
        return item
