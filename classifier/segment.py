"""Segment stage: an lxml tree -> the page's text blocks, in document order.

A block is the text that a reader sees as one unit: a paragraph, heading, list item,
table cell, or a run of loose text between two block-level elements. Inline markup
(links, emphasis, spans) stays inside its block; ``<br><br>`` starts a new paragraph.
Each block remembers where it sits (tag, xpath, depth, class/id tokens of itself and
its ancestors) because *where* a block is says as much about it as *what* it says.
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass, field

from lxml import etree

# Elements whose content a reader never sees as text.
SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "svg", "math", "iframe", "object",
        "embed", "canvas", "head", "select", "datalist", "audio", "video", "map",
        "noframes", "title", "rt", "rp",
    }
)  # fmt: skip
# rt/rp: ruby readings (furigana) and their fallback parentheses annotate the base text
# rather than belong to it: "最近<rt>さいきん</rt>" reads "最近"
# Elements that end the current block and start a new one.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav",
        "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "td",
        "th", "tr", "ul", "caption", "legend", "menu", "frameset", "frame", "hgroup",
        "search", "textarea", "option",
    }
)  # fmt: skip
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_TOKEN = re.compile(r"(?=[a-z0-9]{2})[a-z0-9]*[a-z][a-z0-9]*")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_MAX_DEPTH = 400  # below this many nested elements we flatten instead of recursing


@dataclass(slots=True)
class Block:
    """One text block of a page; `label`/`confidence` are filled in by the model."""

    text: str
    tag: str
    xpath: str
    depth: int
    index: int
    link_chars: int
    n_links: int
    own_tokens: tuple[str, ...]
    parent_tokens: tuple[str, ...]
    ancestor_tokens: frozenset[str]
    ancestor_tags: frozenset[str]
    inline_tokens: tuple[str, ...] = ()
    gold: str | None = None  # from an authored page's data-label; never a feature
    label: str = "content"
    confidence: float = 1.0
    why: list[str] = field(default_factory=list)

    @property
    def link_density(self) -> float:
        return self.link_chars / max(len(self.text), 1)


@dataclass(slots=True)
class _Ctx:
    """What every block opened inside an element inherits from it."""

    tag: str
    path: str
    depth: int
    own: tuple[str, ...]
    parent: tuple[str, ...]
    ancestors: frozenset[str]
    tags: frozenset[str]
    gold: str | None


_NO_ATTRS: dict[str, str] = {}
# stands for "only a class attribute" (its tokens are taken straight from the items)
_CLASS_ONLY: dict[str, str] = {"class": ""}


def attr_tokens(el: etree._Element) -> tuple[str, ...]:
    """Class/id/role/itemprop of an element as lowercase word tokens (camelCase split)."""
    return _attr_tokens(dict(el.items()))


def _attr_tokens(attrs: dict[str, str]) -> tuple[str, ...]:
    if len(attrs) == 1 and "class" in attrs:  # the common case
        return _tokens(attrs["class"])
    get = attrs.get
    raw = " ".join([v for v in (get("class"), get("id"), get("role"), get("itemprop")) if v])
    return _tokens(raw) if raw else ()


@functools.lru_cache(maxsize=65536)
def _tokens(raw: str) -> tuple[str, ...]:
    # pages (and sites) repeat the same class strings hundreds of times: tokenise once;
    # a token is a run of [a-z0-9] of 2+ characters with at least one letter
    return tuple(_TOKEN.findall(_CAMEL.sub(" ", raw).lower()))


def _hidden(tag: str, attrs: dict[str, str]) -> bool:
    """Hidden by attribute or inline style (hidden="until-found" is findable, so shown).

    A hidden <html> or <body> is the anti-flicker trick of A/B-testing scripts, which
    reveal the page once loaded: the reader does see it.
    """
    if tag in ("body", "html"):
        return False
    hidden = attrs.get("hidden")
    if hidden is not None and hidden.lower() != "until-found":
        # React's streamed HTML: <div hidden id="S:3"> holds a part of the page that a
        # script moves into place as soon as it arrives
        return not (tag == "div" and attrs.get("id", "").startswith("S:"))
    style = attrs.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _skipped(tag: str) -> bool:
    """A script-like element under a namespace prefix (svg:svg, x:script)."""
    return tag.rpartition(":")[2].lower() in SKIP_TAGS


def _visible_text(el: etree._Element) -> str:
    """All visible text under `el`, without recursion (for absurdly deep nesting)."""
    parts: list[str] = []
    walker = etree.iterwalk(el, events=("start", "end"))
    for event, node in walker:
        if node is el:
            if event == "start" and el.text:
                parts.append(el.text)
            continue
        if event == "start":
            tag = node.tag if isinstance(node.tag, str) else ""
            if not tag or tag in SKIP_TAGS or _skipped(tag) or _hidden(tag, dict(node.items())):
                walker.skip_subtree()  # its "end" event still comes, with the tail
            elif node.text:
                parts.append(node.text)
        elif node.tail:
            parts.append(node.tail)
    return " ".join(parts)


class _Segmenter:
    """One pass over the tree, flushing a block whenever a block boundary is crossed."""

    def __init__(self, skip: frozenset[str] = SKIP_TAGS, show_hidden: bool = False) -> None:
        self.skip = skip
        self.show_hidden = show_hidden
        self.noscripts: list[etree._Element] = []  # skipped <noscript>s, for segment()
        self.hidden: list[etree._Element] = []  # skipped hidden elements, for segment()
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.link_chars = 0
        self.n_links = 0
        self.link_depth = 0
        self.last_br = False
        self.has_text = False  # whether parts hold more than whitespace
        self.inline: list[str] = []

    def add(self, text: str | None) -> None:
        if not text:
            return
        self.parts.append(text)
        if self.link_depth:
            self.link_chars += len(text.strip())
        if not text.isspace():
            self.last_br = False
            self.has_text = True

    def flush(self, ctx: _Ctx) -> None:
        if not self.parts:
            return
        if self.has_text:  # whitespace alone since the last block makes no block
            raw = "".join(self.parts)
            if ctx.tag == "pre":  # code and poetry: keep the lines and their indentation
                lines = [line.rstrip() for line in raw.split("\n")]
                text = textwrap.dedent("\n".join(lines)).strip("\n")
            else:
                text = " ".join(raw.split())
            self.blocks.append(  # positional: this runs for every block of every page
                Block(
                    text, ctx.tag, ctx.path, ctx.depth, len(self.blocks),
                    min(self.link_chars, len(text)), self.n_links, ctx.own, ctx.parent,
                    ctx.ancestors, ctx.tags,
                    tuple(dict.fromkeys(self.inline)) if self.inline else (), ctx.gold,
                )
            )  # fmt: skip
        self.has_text = False
        self.parts = []
        self.link_chars = 0
        self.n_links = 0
        self.inline = []

    def walk(self, el: etree._Element, tag: str, ctx: _Ctx, path: str, level: int = 0) -> None:
        """Visit `el` (whose tag the caller has read: lxml builds a new string on every
        read) and its subtree; the hot loop of the whole package (~3 µs a node)."""
        items = el.items()  # one call for every attribute we look at
        if not items:
            attrs = _NO_ATTRS
        elif len(items) == 1 and items[0][0] == "class":  # the common case: no dict
            attrs = _CLASS_ONLY
            own = _tokens(items[0][1])
        else:
            attrs = dict(items)
        hidden = attrs and attrs is not _CLASS_ONLY and _hidden(tag, attrs)
        if tag in self.skip or (hidden and not self.show_hidden) or (
            ":" in tag and _skipped(tag)
        ):
            if tag == "noscript":
                self.noscripts.append(el)
            elif hidden:
                self.hidden.append(el)
            if el.tail:
                self.add(el.tail)
            return
        if tag == "br":
            if self.last_br:
                self.flush(ctx)
            else:
                self.add("\n")
            self.last_br = True
            if el.tail:
                self.add(el.tail)
            return
        is_block = tag in BLOCK_TAGS
        inner = ctx
        if is_block:
            if self.parts:
                self.flush(ctx)
            if attrs is _NO_ATTRS:
                own = ()
            elif attrs is not _CLASS_ONLY:
                own = _attr_tokens(attrs)
            inner = _Ctx(
                tag, path, ctx.depth + 1, own, ctx.own,
                _union(ctx.ancestors, ctx.own) if ctx.own else ctx.ancestors,
                _with_tag(ctx.tags, ctx.tag),
                attrs.get("data-label") or ctx.gold,
            )  # fmt: skip
        elif attrs is _CLASS_ONLY:
            self.inline.extend(own)
        elif attrs:
            if "class" in attrs or "id" in attrs:
                self.inline.extend(_attr_tokens(attrs))
            label = attrs.get("data-label")
            if label:
                inner = _Ctx(ctx.tag, ctx.path, ctx.depth, ctx.own, ctx.parent, ctx.ancestors,
                             ctx.tags, label)  # fmt: skip
        is_link = tag == "a"
        if is_link:
            self.link_depth += 1
            self.n_links += 1
        if level > _MAX_DEPTH:  # flatten instead of recursing further
            self.add(_visible_text(el))
        else:
            text = el.text
            if text:
                self.add(text)
            if len(el):
                counts: dict[str, int] = {}
                walk = self.walk
                for child in el:
                    ctag = child.tag
                    if not isinstance(ctag, str):  # comment / PI that survived the parser
                        if child.tail:
                            self.add(child.tail)
                        continue
                    n = counts[ctag] = counts.get(ctag, 0) + 1
                    walk(child, ctag, inner, f"{path}/{ctag}[{n}]", level + 1)
        if is_link:
            self.link_depth -= 1
        if is_block and self.parts:
            self.flush(inner)
        tail = el.tail
        if tail:
            self.add(tail)


@functools.lru_cache(maxsize=4096)
def _union(ancestors: frozenset[str], own: tuple[str, ...]) -> frozenset[str]:
    # a page opens thousands of elements under a few dozen distinct ancestor sets
    return ancestors.union(own)


@functools.lru_cache(maxsize=4096)
def _with_tag(tags: frozenset[str], tag: str) -> frozenset[str]:
    return tags | {tag}


def page_title(root: etree._Element | None, headline: bool = True) -> str:
    """The page's title: og:title, else the document <title>, else (with `headline`)
    the first <h1> (see first_headline).

    Only the first match counts: an inline SVG carries <title> elements of its own.
    The <head> is searched first and alone, as whole-tree XPath costs ~0.1 ms a query.
    """
    if root is None:
        return ""
    head = root.find("head")
    if head is not None:
        for meta in head.iter("meta"):
            if meta.get("property") == "og:title" and (meta.get("content") or "").strip():
                return " ".join(meta.get("content", "").split())
        title = head.find("title")
        if title is not None:
            text = " ".join("".join(title.itertext()).split())
            if text:
                return text
    for xp in ('(//meta[@property="og:title"])[1]/@content',
               "(//title[not(ancestor::svg)])[1]//text()"):  # fmt: skip
        text = _first_text(root, xp)
        if text:
            return text
    return first_headline(root) if headline else ""


def first_headline(root: etree._Element | None) -> str:
    """The first <h1>'s text: the title of a page that has no other."""
    return "" if root is None else _first_text(root, "(//h1)[1]//text()")


def _first_text(root: etree._Element, xp: str) -> str:
    found = root.xpath(xp)
    return " ".join(" ".join(str(t) for t in found[:20]).split()) if found else ""


def segment(root: etree._Element | None) -> list[Block]:
    """Split a parsed page into blocks in document order (empty list for no page)."""
    if root is None:
        return []
    body = root.find("body")
    start = body if body is not None else root
    seg = _walk(start, SKIP_TAGS)
    if seg.noscripts and _text_size(seg.noscripts) > sum(len(b.text) for b in seg.blocks):
        # the page a reader without JavaScript gets is in <noscript>: forum software
        # (Discourse) serves whole threads there and the scripted view is empty
        seg = _walk(start, SKIP_TAGS - {"noscript"})
    elif seg.hidden and _any_larger(seg.hidden, HIDDEN_RATIO * _size(seg.blocks)):
        # the page is served hidden and revealed by a script (the "defer" wrapper of a
        # shop's product page): when one hidden element holds several times the visible
        # text, what a reader sees is that part. Many hidden forms or menus that only
        # add up to more do not count.
        seg = _walk(start, SKIP_TAGS, show_hidden=True)
    return seg.blocks


HIDDEN_RATIO = 3  # hidden text this many times the visible text: the page is the hidden part


def _size(blocks: list[Block]) -> int:
    return sum(len(b.text) for b in blocks)


def _any_larger(elements: list[etree._Element], limit: int) -> bool:
    """Whether one of these elements holds more than `limit` characters of text; stops at
    the first that does (pages with hidden menus ask this on every clean)."""
    return any(_shown_size(el) > limit for el in elements)


def _shown_size(el: etree._Element) -> int:
    """Characters of non-space text under an element, scripts and styles aside."""
    size = 0
    for node in el.iter():
        if isinstance(node.tag, str) and node.tag not in ("script", "style"):
            size += len("".join((node.text or "").split()))
        if node is not el:
            size += len("".join((node.tail or "").split()))
    return size


def _walk(start: etree._Element, skip: frozenset[str], show_hidden: bool = False) -> _Segmenter:
    seg = _Segmenter(skip, show_hidden)
    ctx = _Ctx("html", "/html", 0, (), (), frozenset(), frozenset(), None)
    tag = start.tag if isinstance(start.tag, str) else "html"
    seg.walk(start, tag, ctx, "/html/body" if tag == "body" else "/html")
    seg.flush(ctx)
    return seg


def _text_size(elements: list[etree._Element]) -> int:
    """Characters of non-space text inside the child elements of these elements.

    A <noscript> whose content is bare text is markup the parser kept as text (tracking
    pixels, "enable JavaScript" boxes): it counts for nothing. Scripts and styles aside.
    """
    size = 0
    for el in elements:
        for node in el.iterdescendants():
            if isinstance(node.tag, str) and node.tag not in ("script", "style"):
                size += len("".join((node.text or "").split()))
            size += len("".join((node.tail or "").split()))
    return size
