"""Clean stage: labelled blocks -> the article body in text, markdown, JSON or HTML.

`Cleaner` ties the stages together (decode -> segment -> features/model -> clean) and
is what callers reuse: it holds one model and nothing else, so it is cheap to keep
around in a scraper and safe to share between threads.
"""

from __future__ import annotations

import html as html_lib
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .decode import DEFAULT_MAX_BYTES, HtmlInput, parse
from .errors import ClassifierError, InternalError, PageTimeoutError
from .model import LABELS, Model, default_model
from .segment import HEADINGS, Block, first_headline, page_title, segment

KEEP_DEFAULT = frozenset({"content"})
# A subscription prompt that cuts the story short, as opposed to a plain appeal.
_PAYWALL = re.compile(
    r"(continue reading|keep reading|read the (full|rest)|already a (subscriber|member)|"
    r"unlock (this|the)|subscribers? only|for subscribers|weiterlesen mit|"
    r"nur für abonnenten|réservé aux abonnés|exclusivo para suscriptores)",
    re.I,
)


@dataclass
class Page:
    """A cleaned page: every block labelled, and the kept ones as the article."""

    title: str
    blocks: list[Block]
    url: str | None = None
    keep: frozenset[str] = field(default=KEEP_DEFAULT)
    # why the page has no text to give, e.g. "empty input" (None when it has some)
    empty_reason: str | None = None

    @property
    def content_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.label in self.keep]

    @property
    def text(self) -> str:
        """The article body as plain text, paragraphs separated by a blank line."""
        return "\n\n".join(b.text for b in self.content_blocks)

    @property
    def paywalled(self) -> bool:
        """True when a subscription prompt (labelled donation_appeal) gates the story."""
        return any(
            b.label == "donation_appeal" and _PAYWALL.search(b.text) for b in self.blocks
        )

    def to_markdown(self) -> str:
        """Headings as #, list items as -, quotes as >, the rest as paragraphs."""
        out: list[str] = []
        blocks = self.content_blocks
        if self.title and not any(b.tag in HEADINGS for b in blocks[:3]):
            out.append(f"# {self.title}")
        for b in blocks:
            text = b.text
            if b.tag in HEADINGS:
                text = "#" * int(b.tag[1]) + " " + text
            elif b.tag == "li":
                text = "- " + text
            elif b.tag == "pre":
                text = "```\n" + text + "\n```"
            if "blockquote" in b.ancestor_tags or b.tag == "blockquote":
                text = "> " + text
            out.append(text)
        return "\n\n".join(out) + ("\n" if out else "")

    def to_html(self) -> str:
        """A minimal, safe HTML document holding only the kept blocks."""
        parts = [
            "<!DOCTYPE html>",
            '<html><head><meta charset="utf-8">',
            f"<title>{html_lib.escape(self.title)}</title></head><body><article>",
        ]
        for b in self.content_blocks:
            tag = b.tag if b.tag in HEADINGS or b.tag in ("blockquote", "pre") else "p"
            if tag == "p" and "blockquote" in b.ancestor_tags:
                tag = "blockquote"
            in_list = parts[-1] == "</ul>"
            if b.tag == "li":  # consecutive items share one list
                if in_list:
                    parts.pop()
                else:
                    parts.append("<ul>")
                parts.append(f"<li>{html_lib.escape(b.text)}</li>")
                parts.append("</ul>")
            else:
                parts.append(f"<{tag}>{html_lib.escape(b.text)}</{tag}>")
        parts.append("</article></body></html>")
        return "\n".join(parts) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: title, text and every block with its label and confidence."""
        return {
            "title": self.title,
            "url": self.url,
            "text": self.text,
            "paywalled": self.paywalled,
            **({"empty_reason": self.empty_reason} if self.empty_reason else {}),
            "blocks": [
                {
                    "text": b.text,
                    "label": b.label,
                    "confidence": round(b.confidence, 4),
                    "tag": b.tag,
                    "xpath": b.xpath,
                    **({"why": b.why} if b.why else {}),
                }
                for b in self.blocks
            ],
        }


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise `PageTimeoutError` in the main thread after `seconds` (no-op elsewhere).

    SIGALRM is the only way to interrupt a libxml2 parse or a long Python loop from
    outside without a subprocess; other threads simply run without a budget.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise PageTimeoutError(f"page took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Cleaner:
    """Reusable cleaner: loads its model once, then cleans page after page.

    `clean` returns a `Page` (maybe empty, with `empty_reason`) or raises a
    `classifier.ClassifierError`; see `classifier.errors` for which input gives which.
    """

    def __init__(
        self,
        model: Model | str | Path | None = None,
        keep: frozenset[str] | set[str] | None = None,
        explain: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float | None = None,
    ) -> None:
        if model is None:
            model = default_model()
        elif isinstance(model, (str, Path)):
            model = Model.load(model)
        self.model = model
        keep = KEEP_DEFAULT if keep is None else frozenset(keep)
        unknown = keep - set(LABELS)
        if unknown:
            raise ValueError(f"unknown labels to keep: {sorted(unknown)}; known: {LABELS}")
        if not keep:
            raise ValueError(f"the labels to keep must be a non-empty subset of {LABELS}")
        self.keep = keep
        self.explain = explain
        self.max_bytes = max_bytes
        self.timeout = timeout

    def clean(self, html: HtmlInput, url: str | None = None) -> Page:
        """Label every block of one page and return it as a `Page`."""
        try:
            with time_limit(self.timeout):
                return self._clean(html, url)
        except ClassifierError:
            raise
        except MemoryError:
            raise
        except Exception as exc:  # a bug of ours must not look like lxml's or Python's
            raise InternalError(f"{type(exc).__name__}: {exc}") from exc

    def _clean(self, html: HtmlInput, url: str | None) -> Page:
        root = parse(html, self.max_bytes)
        if root is None:
            return Page(title="", blocks=[], url=url, keep=self.keep, empty_reason="empty input")
        blocks = segment(root)
        doc_title = page_title(root, headline=False)  # what the headline feature matches
        title = doc_title or first_headline(root)
        del root  # the tree is the largest object of a big page: free it before features
        if blocks:
            self.model.label_blocks(blocks, explain=self.explain, title=doc_title)
        page = Page(title=title, blocks=blocks, url=url, keep=self.keep)
        if not blocks:
            page.empty_reason = "no visible text"
        elif not page.content_blocks:
            page.empty_reason = "no block labelled " + " or ".join(sorted(self.keep))
        return page


def clean(html: HtmlInput, url: str | None = None) -> Page:
    """Clean one page with the default model (loaded once per process)."""
    return Cleaner().clean(html, url=url)
