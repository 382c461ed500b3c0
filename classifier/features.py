"""Feature stage: a page's blocks -> one sparse feature dict per block.

A block is judged by three kinds of evidence, as in dragnet and jusText:
- its own text (length, links, punctuation, the words of short blocks, which is where
  "Related:", "Donate" and "1,234 views" live);
- its markup (tag, class/id tokens of itself, its parent and its ancestors);
- its context (neighbours, the nearest heading above it, and whether it sits in the
  container that holds most of the page's running text).
Every feature has a name, so the estimator can say what it used; at prediction time the
model scores them without materialising a dict per block (see `PageFeatures`).
"""

from __future__ import annotations

import functools
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

from .segment import HEADINGS, Block

_WORD = re.compile(r"\w+")
_SENT_END = ("." , "!", "?", '"', "”", "»", "“", ")", "…", ":")
SHORT_WORDS = 12  # blocks up to this many words contribute their words as features
_DIGIT = re.compile(r"\d")
# a whitespace-separated token starting with a capital (Latin, Greek, Cyrillic), found
# in " " + text (a lookbehind at every position is slower)
_CAPITALISED = re.compile(r"\s[A-ZÀ-ÖØ-ÞΑ-ΩА-Я]")
_PUNCT = re.compile(r"[.,;!?]")
# Cue words of the special kinds, in the languages of our corpora. The words of short
# blocks are features anyway; these cues let long appeals ("We keep our reporting
# open... become a patron") and counters in any wording share evidence.
# Matched against the lower-cased text (case-insensitive matching is twice as slow).
_CUE_PARTS = {
    "donate": re.compile(
        r"\b(donat\w*|patreon|patron|paypal|ko-fi|support (us|our|independent|quality)|"
        r"your support|readers like you|reader-funded|join (us|our)|help us|chip in|"
        r"become a (member|supporter|subscriber)|membership|subscri\w+|newsletter|"
        r"sign up|buy me a coffee|contribut\w+|spende\w*|spenden|unterstütz\w+|abonn\w+|"
        r"soutenez|soutenir|faire un don|suscri\w+|don(a|e)r|hazte socio|"
        r"already a (subscriber|member)|log ?in to continue|unlock|sponsor\w*|inbox|"
        r"postfach|e-?mail list|mailing list|boletín|stay (informed|up to date)|"
        r"colabora\w*|aportación|apóya\w*|apoya\w*|mitglied\w*|adhére[rz]|sostieni\w*|"
        r"abbona\w*|doneer\w*|steun ons|word lid|apoie|assine)\b"
    ),
    "related": re.compile(
        r"\b(related|read (more|also|next)|see also|you (may|might) (also )?like|"
        r"most (popular|read|viewed)|trending|more from|recommended|further reading|"
        r"weitere artikel|lesen sie auch|mehr zum thema|à lire aussi|lire aussi|"
        r"voir aussi|artículos relacionados|te puede interesar|previous|next post)\b"
    ),
    "counter": re.compile(
        r"(\d[\d.,]*\s*[kKmM]?\s*(views?|visits?|reads?|hits|shares?|likes?|comments?|"
        r"reviews?|aufrufe|mal gelesen|vues|visitas|lecturas|kommentare|replies)\b|"
        r"\b(views?|visits?|aufrufe|gelesen|vues|replies|hits)\s*:?\s*\d)"
    ),
}
# A block can only match a cue pattern if it holds one of these words (or, for the
# donate stems, substrings): checking a set first skips the regex for most blocks.
# Keep in step with _CUE_PARTS; tests/test_features.py checks it on real pages.
_DONATE_WORDS = frozenset({
    "patreon", "patron", "paypal", "ko", "support", "your", "readers", "reader", "join",
    "help", "chip", "become", "membership", "newsletter", "sign", "buy", "spenden",
    "soutenez", "soutenir", "faire", "donar", "doner", "hazte", "already", "log", "login",
    "unlock", "inbox", "postfach", "email", "mail", "mailing", "boletín", "stay",
    "aportación", "adhérer", "adhérez", "steun", "lid", "apoie", "assine",
})  # fmt: skip
_DONATE_STEMS = re.compile(
    r"donat|subscri|contribut|spende|unterstütz|abonn|suscri|sponsor|colabora|apóya|apoya|"
    r"mitglied|sostieni|abbona|doneer"
)
# every counter cue holds one of these
_COUNTER_STEMS = re.compile(
    r"view|visit|read|hit|share|like|comment|review|aufrufe|gelesen|vues|lecturas|"
    r"kommentare|replies"
)
# The heading of a reader-comment section ("45 comments", "3 Responses to ...",
# "Leave a Reply", "Kommentare"), matched against a short block's lower-cased text.
_THREAD = re.compile(
    r"^\W*(\d[\d,.]*\s*(comments?|responses?|thoughts on|kommentare?|commentaires?|"
    r"comentarios?|commenti|reacties)|(reader |user )?comments|responses to|"
    r"leserkommentare|kommentare|commentaires|comentarios|commenti|reacties|"
    r"leave a (reply|comment)|post a comment|join the (discussion|conversation)|"
    r"schreibe? einen kommentar|laiss(er|ez) un commentaire|deja (un|tu) comentario|"
    r"lascia un commento)\b"
)
_THREAD_WORDS = frozenset({
    "comment", "comments", "responses", "response", "thoughts", "kommentar", "kommentare",
    "leserkommentare", "commentaire", "commentaires", "comentario", "comentarios",
    "commenti", "commento", "reacties", "leave", "post", "join", "schreibe", "schreib",
    "laisser", "laissez", "deja", "lascia",
})  # fmt: skip
THREAD_WORDS_MAX = 10  # a comments heading is short
# ... unless it is a heading element that names the post: WordPress themes print
# "59 Comments on “<the post's title>”" and "3 thoughts on “…”"
THREAD_HEADING_MAX = 30
# "Comments: 28" in a post's byline counts comments, it does not open them
_THREAD_COUNT = re.compile(r"comments?\W*\d")
_RELATED_WORDS = frozenset({
    "related", "read", "see", "you", "most", "trending", "more", "recommended", "further",
    "weitere", "lesen", "mehr", "à", "lire", "voir", "artículos", "te", "previous", "next",
})  # fmt: skip


# Per-block numeric features, in column order.
OWN = (
    "len", "words", "punct", "commas", "digits", "avg_word", "short_words", "ends_sentence",
    "ends_colon", "titlecase", "paren", "cue_donate", "cue_donate_density", "cue_related",
    "cue_related_density", "cue_counter", "cue_counter_density", "link_density", "links",
    "depth",
)  # fmt: skip
_NEIGHBOURS = (-2, -1, 1, 2)
# Every numeric feature of a block, own and context: the dense part of the feature space.
DENSE = OWN + (
    "pos", "rel_len", "share", "long", "in_best", "best_dist", "before_best", "after_best",
    "best_common", "win_len", "win_link", "grp_n", "grp_words", "grp_link", "grp_end",
    "grp_items", "link_x_words", "title_share", "title_cover", "box_donate", "box_related",
    "box_counter", "in_thread",
) + tuple(
    f"n{off:+d}_{k}" for off in _NEIGHBOURS
    for k in (("len", "link", "end", "none") + (("best",) if abs(off) == 1 else ()))
)  # fmt: skip
_COL = {name: j for j, name in enumerate(DENSE)}


# Raw counts per block, the columns `_chunk_counts` returns; `_own_stats`
# turns a whole page of them into the first 17 OWN columns in a few array operations.
_COUNTS = (
    "chars", "words", "punct", "commas", "digits", "ends_sentence", "ends_colon", "caps",
    "paren", "cue_donate", "cue_related", "cue_counter",
)  # fmt: skip


_CHUNK = 1024  # blocks whose words are held at once (a 20 MB page has 60,000 blocks)


def _chunk_counts(texts: list[str], word_lens: array) -> tuple[np.ndarray, list[list[str]]]:
    """Raw counts (one row per text, _COUNTS columns) of a run of blocks, and each one's
    words (at most SHORT_WORDS + 1); appends every word's length to `word_lens`.

    Each column is one `map` of a C function over the texts: no Python frame per block.
    A block's arithmetic (shares, logs) is done per page in `_own_stats`.
    """
    lowers = list(map(str.lower, texts))
    words = list(map(_WORD.findall, lowers))
    word_lens.extend(map(len, chain.from_iterable(words)))
    tails = list(map(str.rstrip, texts))
    digits = list(map(len, map(_DIGIT.findall, texts)))
    cols = [
        list(map(len, texts)),
        list(map(len, words)),
        list(map(len, map(_PUNCT.findall, texts))),
        list(map(str.count, texts, repeat(","))),
        digits,
        list(map(str.endswith, tails, repeat(_SENT_END))),
        list(map(str.endswith, tails, repeat(":"))),
        list(map(len, map(_CAPITALISED.findall, map(" ".__add__, texts)))),
        [t.startswith("(") and t.endswith(")") for t in texts],
    ]
    # the cue regexes run only where a cheap check finds one of their words
    no_donate = map(_DONATE_WORDS.isdisjoint, words)
    no_related = map(_RELATED_WORDS.isdisjoint, words)
    cue = _CUE_PARTS
    cols.append([len(cue["donate"].findall(low)) if not nd or _DONATE_STEMS.search(low) else 0
                 for low, nd in zip(lowers, no_donate, strict=True)])  # fmt: skip
    cols.append([0 if nr else len(cue["related"].findall(low))
                 for low, nr in zip(lowers, no_related, strict=True)])  # fmt: skip
    cols.append([len(cue["counter"].findall(low)) if d and _COUNTER_STEMS.search(low) else 0
                 for low, d in zip(lowers, digits, strict=True)])  # a counter needs a number
    # a long block's words are never features: keep just enough to know it is long and
    # to take its first (and heading) words
    short = [w if len(w) <= SHORT_WORDS else w[: SHORT_WORDS + 1] for w in words]
    return np.array(cols, dtype=np.float64).T, short


def _own_stats(counts: np.ndarray, word_lens: array, out: np.ndarray) -> None:
    """Fill the first 17 OWN columns of `out` from one page's raw counts."""
    c = counts.T
    chars, words, punct, commas, digits, ends, colon, caps, paren = c[:9]
    lens = np.frombuffer(word_lens, dtype=np.int32)
    at = np.concatenate([[0], np.cumsum(words, dtype=np.int64)])
    letters = np.concatenate([[0], np.cumsum(lens, dtype=np.int64)])
    short = np.concatenate([[0], np.cumsum(lens <= 3, dtype=np.int64)])
    per_word = 1.0 / np.maximum(words, 1.0)
    out[:, 0] = np.log1p(chars) / 8.0
    out[:, 1] = np.log1p(words) / 6.0
    out[:, 2] = punct * per_word
    out[:, 3] = np.log1p(commas) / 3.0
    out[:, 4] = digits / np.maximum(chars, 1.0)
    out[:, 5] = np.minimum((letters[at[1:]] - letters[at[:-1]]) * per_word, 15.0) / 10.0
    out[:, 6] = (short[at[1:]] - short[at[:-1]]) * per_word
    out[:, 7], out[:, 8] = ends, colon
    out[:, 9] = caps * per_word
    out[:, 10] = paren
    for j, k in enumerate(c[9:]):
        out[:, 11 + 2 * j] = np.minimum(k, 5.0) / 5.0
        out[:, 12 + 2 * j] = np.minimum(k * 12 * per_word, 1.0)


# The binary features of one block come in two kinds: token sets it shares with its
# neighbours (ancestor tags and class/id tokens; cached, as a page repeats a few dozen
# of them) and names of its own (its words, tag, first word, section heading).
BAGS = ("in=", "own=", "par=", "anc=")


@dataclass(slots=True)
class PageFeatures:
    """Features of one page's blocks: a dense matrix plus binary features by name.

    A linear model scores this without ever building a dict per block: the dense part
    is one matrix product, a bag is one cached weight vector, and the names are few.
    `to_dicts` gives the same features as {name: value} for training and explanations.
    """

    dense: np.ndarray  # (blocks, len(DENSE))
    bags: list[tuple[frozenset[str] | tuple[str, ...], ...]]  # per block, one per BAGS
    names: list[list[str]]  # per block: its own binary features
    # what the second pass (context_features) needs besides first-pass verdicts
    chars: np.ndarray  # text length per block
    link: np.ndarray  # link density per block
    parent: np.ndarray  # an id of the block's parent element (blocks sharing one agree)

    def __len__(self) -> int:
        return len(self.names)

    def to_dicts(self) -> list[dict[str, float]]:
        out = []
        for row, bags, names in zip(self.dense, self.bags, self.names, strict=True):
            f = {DENSE[j]: float(row[j]) for j in np.flatnonzero(row)}
            for prefix, tokens in zip(BAGS, bags, strict=True):
                f.update(named(prefix, tokens))
            f.update(dict.fromkeys(names, 1.0))
            out.append(f)
        return out


@functools.lru_cache(maxsize=8192)
def prefixed(prefix: str, tokens: tuple[str, ...] | frozenset[str]) -> tuple[str, ...]:
    """Feature names of a token set (cached: blocks and pages repeat the same sets).

    A frozenset iterates in an order that depends on the process's string hashing:
    sorted, its names reach the training table's vocabulary in the same order in every
    run, so the same data and seed give the same model.
    """
    return tuple(prefix + t for t in (sorted(tokens) if isinstance(tokens, frozenset) else tokens))


@functools.lru_cache(maxsize=8192)
def named(prefix: str, tokens: tuple[str, ...] | frozenset[str]) -> dict[str, float]:
    """Prefixed binary features for a token set; cached, as blocks share their ancestors'.

    The returned dict is shared: callers only read it (dict.update).
    """
    return dict.fromkeys(prefixed(prefix, tokens), 1.0)


_SIDE_TAGS = frozenset({"footer", "aside", "nav"})


def _best_container(blocks: Sequence[Block], parents: Sequence[str]) -> str:
    """The xpath of the element whose paragraphs hold the most running text.

    Like readability: credit each prose-like block's text to its parent and (half) to
    its grandparent, then take the best-scored element; and a quarter to its
    great-grandparent, for templates that wrap every paragraph in a section of its own
    (section > div > p), where no parent or grandparent holds more than one paragraph.
    Text inside <footer>, <aside> or <nav> earns a tenth: on a page whose article is
    short lists, a footer disclaimer would otherwise be the "densest text".
    """
    scores: dict[str, float] = {}
    for b, parent in zip(blocks, parents, strict=True):
        n = len(b.text)
        if n < 60 or b.link_density > 0.3:
            continue
        grand = parent.rpartition("/")[0]
        great = grand.rpartition("/")[0]
        credit = min(n, 1200) * (1.0 + b.text.count(",") * 0.1)
        if not _SIDE_TAGS.isdisjoint(b.ancestor_tags):
            credit /= 10
        scores[parent] = scores.get(parent, 0.0) + credit
        scores[grand] = scores.get(grand, 0.0) + credit / 2
        scores[great] = scores.get(great, 0.0) + credit / 4
    if not scores:
        return ""
    return max(scores.items(), key=lambda kv: kv[1])[0]


def _shift(a: np.ndarray, off: int) -> np.ndarray:
    """a[i + off] at i, 0 where that falls off the page."""
    out = np.zeros_like(a)
    if off > 0:
        out[:-off] = a[off:]
    else:
        out[-off:] = a[:off]
    return out


def extract(blocks: Sequence[Block], title: str = "") -> PageFeatures:
    """Features for every block of one page, own plus context.

    `title` is the page's own title (og:title or <title>, see segment.page_title): the
    block that repeats it is the headline, which a related-stories heading resembles.
    """
    n = len(blocks)
    dense = np.zeros((n, len(DENSE)))
    if n == 0:
        empty = np.zeros(0)
        return PageFeatures(dense, [], [], empty, empty, np.zeros(0, dtype=np.int64))
    # text statistics and each block's own binary features, a chunk of blocks at a time
    # so that their words are dropped as soon as they are used
    counts = np.empty((n, len(_COUNTS)))
    word_lens = array("i")
    long_rows: list[int] = []
    names: list[list[str]] = []
    heading_names: tuple[str, ...] = ()
    heading_at = -100
    thread_heads: list[int] = []
    chunk_words: list[list[str]] = []
    title_words = frozenset(_WORD.findall(title.lower()))
    share_col, cover_col = _COL["title_share"], _COL["title_cover"]
    for i, b in enumerate(blocks):
        if i % _CHUNK == 0:
            texts = [x.text for x in blocks[i : i + _CHUNK]]
            counts[i : i + len(texts)], chunk_words = _chunk_counts(texts, word_lens)
            del texts
        words = chunk_words[i % _CHUNK]
        # names are built from cached strings and each appears once per block: the
        # model looks them up by hash and sums their weights without deduplicating
        own = [_tag_feature("tag=", b.tag)]
        if b.inline_tokens:
            own.extend(prefixed("inl=", b.inline_tokens))
        if len(words) <= SHORT_WORDS:
            own.extend(dict.fromkeys(map(_word_feature, words)))
        else:
            long_rows.append(i)
        if words:
            own.append(_first_feature(words[0]))
        # the heading a block sits under says what kind of box it is in
        if i - heading_at <= 12:
            own.extend(heading_names)
        if i > 0:
            own.append(_tag_feature("n-1_tag=", blocks[i - 1].tag))
        if i + 1 < n:
            own.append(_tag_feature("n+1_tag=", blocks[i + 1].tag))
        names.append(own)
        if title_words and 0 < len(words) <= SHORT_WORDS:
            mine = set(words)
            shared = len(mine & title_words)
            if shared:
                dense[i, share_col] = shared / len(mine)
                dense[i, cover_col] = shared / len(title_words)
        if b.tag in HEADINGS or (len(words) <= 6 and b.text.rstrip().endswith(":")):
            heading_names = prefixed("sect=", tuple(dict.fromkeys(words[:6])))
            heading_at = i
        # the word-set check first: the regexes run on a few blocks a page
        short = len(words) <= (THREAD_HEADING_MAX if b.tag in HEADINGS else THREAD_WORDS_MAX)
        if short and not _THREAD_WORDS.isdisjoint(words) and _is_thread_head(b):
            thread_heads.append(i)
    _own_stats(counts, word_lens, dense)
    lens = counts[:, _COUNTS.index("chars")].copy()
    cues = counts[:, _COUNTS.index("cue_donate") :].copy()
    del counts, word_lens
    link_chars = np.array([b.link_chars for b in blocks], dtype=float)
    link_density = link_chars / np.maximum(lens, 1.0)
    dense[:, OWN.index("link_density")] = link_density
    dense[:, OWN.index("links")] = np.log1p([b.n_links for b in blocks]) / 3.0
    dense[:, OWN.index("depth")] = np.minimum([b.depth for b in blocks], 40) / 20.0

    parents = [b.xpath.rpartition("/")[0] for b in blocks]
    ids: dict[str, int] = {}
    parent = np.fromiter((ids.setdefault(p, len(ids)) for p in parents), np.int64, count=n)
    paths = list(ids)
    _box_cues(paths, parent, cues, dense)
    best = _best_container(blocks, parents)
    in_best, common = _container_position(blocks, paths, parent, best)
    # distance (in blocks) to the nearest block inside the best container
    idx = np.arange(n)
    if in_best.any():
        marks = np.flatnonzero(in_best)
        prev = np.maximum.accumulate(np.where(in_best, idx, -n))
        nxt = np.minimum.accumulate(np.where(in_best, idx, 2 * n)[::-1])[::-1]
        dist = np.minimum(idx - prev, nxt - idx)
        first_best, last_best = marks[0], marks[-1]
    else:
        dist = np.minimum(idx + n, 2 * n - idx)
        first_best, last_best = n, -1
    col = _COL
    dense[:, col["pos"]] = idx / n
    dense[:, col["rel_len"]] = lens / lens.max()
    dense[:, col["share"]] = lens / lens.sum()
    dense[:, col["in_best"]] = in_best
    dense[:, col["best_dist"]] = np.log1p(dist) / 5.0
    dense[:, col["before_best"]] = idx < first_best
    dense[:, col["after_best"]] = idx > last_best
    dense[:, col["best_common"]] = common
    length, link, end = (dense[:, OWN.index(k)] for k in ("len", "link_density", "ends_sentence"))
    for off in _NEIGHBOURS:
        key = f"n{off:+d}_"
        exists = (idx + off >= 0) & (idx + off < n)
        dense[:, col[key + "len"]] = _shift(length, off)
        dense[:, col[key + "link"]] = _shift(link, off)
        dense[:, col[key + "end"]] = _shift(end, off)
        dense[:, col[key + "none"]] = ~exists
        if abs(off) == 1:
            dense[:, col[key + "best"]] = _shift(in_best.astype(float), off)
    cl, ck = np.concatenate([[0.0], np.cumsum(length)]), np.concatenate([[0.0], np.cumsum(link)])
    lo, hi = np.maximum(idx - 3, 0), np.minimum(idx + 4, n)
    dense[:, col["win_len"]] = (cl[hi] - cl[lo]) / (hi - lo)
    dense[:, col["win_link"]] = (ck[hi] - ck[lo]) / (hi - lo)

    _group_stats(blocks, parent, dense)
    _thread(blocks, thread_heads, dense[:, col["in_thread"]])

    bags = [(b.ancestor_tags, b.own_tokens, b.parent_tokens, b.ancestor_tokens) for b in blocks]
    dense[long_rows, col["long"]] = 1.0
    return PageFeatures(dense, bags, names, lens, link_density, parent)


BOX_MAX = 40  # an element with more blocks under it than this is no box (see _box_cues)


def _box_cues(paths: list[str], parent: np.ndarray, cues: np.ndarray, dense: np.ndarray) -> None:
    """Fill the box_* columns: the cue words of the other blocks in the block's box.

    A sign-up form's "Name", "Email" and "Close" say nothing themselves; the box they
    sit in says "Sign up for our newsletter" (likewise the items under a "Related
    posts" heading). A block's cues count for its parent and grandparent element; a
    block gets the larger of those two elements' counts, its own cues left out.
    `paths` are the distinct parent xpaths, `parent` each block's index into them.
    """
    ids = {p: j for j, p in enumerate(paths)}
    up = np.fromiter((ids.setdefault(p.rpartition("/")[0], len(ids)) for p in paths),
                     np.int64, count=len(paths))  # fmt: skip
    grand = up[parent]
    size = np.bincount(parent, minlength=len(ids)) + np.bincount(grand, minlength=len(ids))
    for j, name in enumerate(("box_donate", "box_related", "box_counter")):
        own = cues[:, j]
        total = np.bincount(parent, weights=own, minlength=len(ids))
        total += np.bincount(grand, weights=own, minlength=len(ids))
        total[size > BOX_MAX] = 0.0  # a page wrapper, not a box
        others = np.maximum(total[parent], total[grand]) - own
        dense[:, _COL[name]] = np.minimum(others, 5.0) / 5.0


_INDEX = re.compile(r"\[\d+\]")
GROUP_STEPS = 3  # the last steps of an xpath whose indices a repeated item may differ in


def _group_stats(blocks: Sequence[Block], parent: np.ndarray, dense: np.ndarray) -> None:
    """Fill the grp_* columns: what the block's repeated-structure group looks like.

    Blocks whose xpaths match once the indices of their last GROUP_STEPS steps are
    dropped are items of one repeated structure: a story's paragraphs, a menu's
    entries, a teaser list's cards. The group's size, words, links and sentence ends
    tell a headline list (several words, all linked) from a menu (one or two words,
    linked) and from prose (long, unlinked); a linear model cannot build that from
    the block's own figures alone. `parent` is each block's parent element id.
    """
    n = len(blocks)
    keys: dict[str, int] = {}
    group = np.empty(n, dtype=np.int64)
    for i, b in enumerate(blocks):
        head, *tail = b.xpath.rsplit("/", GROUP_STEPS)
        key = head + _INDEX.sub("", "/".join(tail)) if tail else b.xpath
        group[i] = keys.setdefault(key, len(keys))
    size = np.bincount(group).astype(float)
    col = _COL
    dense[:, col["grp_n"]] = np.log1p(size[group] - 1) / 4.0
    # How many items the group's blocks are spread over (distinct (group, parent)
    # pairs): a story's paragraphs share one parent, while comments, forum posts and
    # teaser cards each sit in an item of their own.
    width = int(parent.max()) + 1
    pairs = np.unique(group * width + parent)
    per_group = np.bincount(pairs // width, minlength=len(size)).astype(float)
    dense[:, col["grp_items"]] = np.log1p(per_group[group] - 1) / 4.0
    for name, own in (("grp_words", "words"), ("grp_link", "link_density"),
                      ("grp_end", "ends_sentence")):  # fmt: skip
        v = dense[:, col[own]]
        dense[:, col[name]] = (np.bincount(group, weights=v) / size)[group]
    dense[:, col["link_x_words"]] = dense[:, col["link_density"]] * dense[:, col["words"]]


def _is_thread_head(b: Block) -> bool:
    """A comments heading (see _THREAD), not a link to the comments ("5 Comments" in a
    teaser) nor a byline's count ("Comments: 28") unless it is a heading element."""
    if 2 * b.link_chars >= len(b.text):
        return False
    low = b.text.lower()
    return bool(_THREAD.match(low)) and (b.tag in HEADINGS or not _THREAD_COUNT.search(low))


def _thread(blocks: Sequence[Block], heads: list[int], out: np.ndarray) -> None:
    """Mark the blocks of reader-comment sections: from a comments heading on, while
    they stay inside the heading's grandparent element (the section holding heading
    and comments).

    Comments look like prose and often share the article's container path; their class
    names say "comment" only on some sites, their heading says it on most.
    """
    n = len(blocks)
    done = -1
    for h in heads:
        if h <= done:
            continue
        prefix = blocks[h].xpath.rsplit("/", 2)[0] + "/"
        i = h
        while i < n and blocks[i].xpath.startswith(prefix):
            out[i] = 1.0
            i += 1
        done = i - 1


def page_features(blocks: Sequence[Block], title: str = "") -> list[dict[str, float]]:
    """Features for every block of one page as {name: value} dicts (training, explain)."""
    return extract(blocks, title).to_dicts()


@functools.lru_cache(maxsize=65536)
def _word_feature(word: str) -> str:
    return "w=" + ("0" if word.isdigit() else word)


@functools.lru_cache(maxsize=65536)
def _first_feature(word: str) -> str:
    return "first=" + ("0" if word.isdigit() else word)


@functools.lru_cache(maxsize=4096)
def _tag_feature(prefix: str, tag: str) -> str:
    return prefix + tag


def _container_position(
    blocks: Sequence[Block], parents: list[str], parent: np.ndarray, best: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per block: inside the best container, and the share of its path the block shares.

    Worked out once per parent element (siblings agree), except for blocks whose parent
    holds the container: there the block itself may be the container or an ancestor.
    `parents` are the distinct parent xpaths, `parent` each block's index into them.
    """
    n = len(blocks)
    if not best:
        return np.zeros(n, dtype=bool), np.zeros(n)
    depth = max(best.count("/"), 1)
    best_ = best + "/"
    inside = np.array([p == best or p.startswith(best_) for p in parents], dtype=bool)
    holds = np.array([best_.startswith(p + "/") for p in parents], dtype=bool)
    common = np.array([1.0 if inside[j] else _common_depth(p, best) / depth
                       for j, p in enumerate(parents)])  # fmt: skip
    in_best, share = inside[parent], common[parent]
    for i in np.flatnonzero(holds[parent]).tolist():
        xpath = blocks[i].xpath
        if xpath == best:
            in_best[i] = True
        if best_.startswith(xpath + "/"):  # the block is the container or holds it
            share[i] = xpath.count("/") / depth
    return in_best, share


def _common_depth(a: str, b: str) -> int:
    """Number of xpath steps two paths share from the root."""
    k = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):  # both start at ""
        if x != y:
            break
        k += 1
    return max(k - 1, 0)


CONTEXT_FEATURES = (
    "p", "logit", "p_prev", "p_next", "p_prev2", "p_next2", "win3", "win10", "max3",
    "mass_before", "mass_after", "between", "parent_mean", "len", "link", "edge",
    "special", "special_strong", "special_prev", "special_next", "special_win",
    "special_x_p", "page_max", "page_share",
)  # fmt: skip


def context_features(
    p: np.ndarray,
    chars: np.ndarray,
    link: np.ndarray,
    parent: np.ndarray,
    special: np.ndarray | None = None,
) -> np.ndarray:
    """Second-pass features: what the first pass thinks of a block's surroundings.

    jusText's "context revision" as a learned step: a short block between two
    confident content blocks is content; a lone long block amid menus is not.
    `p` is the first pass's P(content) per block, in document order, one page.
    """
    n = len(p)
    out = np.zeros((n, len(CONTEXT_FEATURES)))
    if n == 0:
        return out
    pad = np.concatenate([[0.0, 0.0], p, [0.0, 0.0]])
    w = np.log1p(chars)
    pw = p * w
    cp, cw = np.concatenate([[0.0], np.cumsum(pw)]), np.concatenate([[0.0], np.cumsum(w)])
    idx = np.arange(n)

    def window(k: int) -> np.ndarray:
        lo, hi = np.maximum(idx - k, 0), np.minimum(idx + k + 1, n)
        return (cp[hi] - cp[lo]) / np.maximum(cw[hi] - cw[lo], 1e-9)

    mass = p * chars
    total = max(mass.sum(), 1.0)
    before = np.concatenate([[0.0], np.cumsum(mass)[:-1]]) / total
    after = 1.0 - before - mass / total
    sums = np.bincount(parent, weights=p)
    counts = np.bincount(parent)
    pc = np.clip(p, 1e-4, 1 - 1e-4)
    out[:, 0] = p
    out[:, 1] = np.log(pc / (1 - pc)) / 5.0
    out[:, 2], out[:, 3] = pad[1:-3], pad[3:-1]
    out[:, 4], out[:, 5] = pad[:-4], pad[4:]
    out[:, 6] = window(3)
    out[:, 7] = window(10)
    out[:, 8] = np.max(np.stack([pad[:-4], pad[1:-3], pad[3:-1], pad[4:]]), axis=0)
    out[:, 9], out[:, 10] = before, after
    out[:, 11] = np.minimum(before, after) * 2
    out[:, 12] = sums[parent] / counts[parent]
    out[:, 13] = np.log1p(chars) / 8.0
    out[:, 14] = link
    out[:, 15] = ((idx == 0) | (idx == n - 1)).astype(float)
    if special is not None:
        # appeals and related boxes come in runs: a neighbour's evidence counts too
        spad = np.concatenate([[0.0], special, [0.0]])
        out[:, 16] = special
        out[:, 17] = (special > 0.8).astype(float)
        out[:, 18], out[:, 19] = spad[:-2], spad[2:]
        out[:, 20] = (spad[:-2] + special + spad[2:]) / 3.0
        out[:, 21] = special * p
    # the page as a whole: a listing page has no block the first pass is sure of, and
    # then its teasers are the body
    out[:, 22] = p.max()
    out[:, 23] = (chars * (p >= 0.5)).sum() / max(chars.sum(), 1.0)
    return out


# Per kind of the kind model: its own log-probability, the same for the blocks one and
# two either side, its mean under the block's parent and its best within two blocks.
KIND_CONTEXT = ("own", "prev", "next", "prev2", "next2", "parent_mean", "near_max")


def kind_context_features(
    kind_proba: np.ndarray, chars: np.ndarray, link: np.ndarray, parent: np.ndarray
) -> np.ndarray:
    """Second-pass features for the kind decision: the kind model's view of a block's
    neighbours and siblings, one page in document order.

    A related box is a list whose items the first pass judges one by one; an item
    without a cue word ("Barton handed twelve-match ban") reads as a menu entry, but
    its siblings under the same parent are headlines of other stories. Columns: for
    each kind model class, KIND_CONTEXT in order; then the parent's block count, the
    block's length and link density.
    """
    n, k = kind_proba.shape
    out = np.zeros((n, len(KIND_CONTEXT) * k + 3))
    if n == 0:
        return out
    pad = np.vstack([np.zeros((2, k)), kind_proba, np.zeros((2, k))])
    counts = np.bincount(parent).astype(float)
    parts = [
        np.log(np.clip(kind_proba, 1e-4, 1.0)) / 5.0,
        pad[1:-3], pad[3:-1], pad[:-4], pad[4:],
        np.column_stack([np.bincount(parent, weights=kind_proba[:, j]) / counts
                         for j in range(k)])[parent],
        np.max(np.stack([pad[i : i + n] for i in range(5)]), axis=0),
    ]  # fmt: skip
    out[:, : len(KIND_CONTEXT) * k] = np.hstack(parts)
    out[:, -3] = np.log(counts[parent]) / 5.0
    out[:, -2] = np.log1p(chars) / 8.0
    out[:, -1] = link
    return out
