"""Feature stage: a page's blocks -> one sparse feature dict per block.

A block is judged by three kinds of evidence, as in dragnet and jusText:
- its own text (length, links, punctuation, the words of short blocks, which is where
  "Related:", "Donate" and "1,234 views" live);
- its markup (tag, class/id tokens of itself, its parent and its ancestors);
- its context (neighbours, the nearest heading above it, and whether it sits in the
  container that holds most of the page's running text).
Features are plain ``dict[str, float]`` so that the estimator can name what it used.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Sequence

import numpy as np

from .segment import HEADINGS, Block

_WORD = re.compile(r"\w+")
_SENT_END = ("." , "!", "?", '"', "”", "»", "“", ")", "…", ":")
SHORT_WORDS = 12  # blocks up to this many words contribute their words as features
_DIGIT = re.compile(r"\d")
_PUNCT = re.compile(r"[.,;!?]")
# Cue words of the special kinds, in the languages of our corpora. The words of short
# blocks are features anyway; these cues let long appeals ("We keep our reporting
# open... become a patron") and counters in any wording share evidence.
_CUE_PARTS = {
    "donate": re.compile(
        r"\b(donat\w*|patreon|patron|paypal|ko-fi|support (us|our|independent|quality)|"
        r"your support|readers like you|reader-funded|join (us|our)|help us|chip in|"
        r"become a (member|supporter|subscriber)|membership|subscri\w+|newsletter|"
        r"sign up|buy me a coffee|contribut\w+|spende\w*|spenden|unterstütz\w+|abonn\w+|"
        r"soutenez|soutenir|faire un don|suscri\w+|don(a|e)r|hazte socio|"
        r"already a (subscriber|member)|log ?in to continue|unlock)\b",
        re.I,
    ),
    "related": re.compile(
        r"\b(related|read (more|also|next)|see also|you (may|might) (also )?like|"
        r"most (popular|read|viewed)|trending|more from|recommended|further reading|"
        r"weitere artikel|lesen sie auch|mehr zum thema|à lire aussi|lire aussi|"
        r"voir aussi|artículos relacionados|te puede interesar|previous|next post)\b",
        re.I,
    ),
    "counter": re.compile(
        r"(\d[\d.,]*\s*[kKmM]?\s*(views?|visits?|reads?|hits|shares?|likes?|comments?|"
        r"reviews?|aufrufe|mal gelesen|vues|visitas|lecturas|kommentare|replies)\b|"
        r"\b(views?|visits?|aufrufe|gelesen|vues|replies|hits)\s*:?\s*\d)",
        re.I,
    ),
}
_CUES = re.compile(
    "|".join(f"(?P<{name}>{p.pattern})" for name, p in _CUE_PARTS.items()), re.I
)


def _text_stats(text: str) -> tuple[list[str], dict[str, float]]:
    words = _WORD.findall(text.lower())
    n_chars = len(text)
    n_words = len(words)
    stats = {
        "len": math.log1p(n_chars) / 8.0,
        "words": math.log1p(n_words) / 6.0,
        "punct": len(_PUNCT.findall(text)) / max(n_words, 1),
        "commas": math.log1p(text.count(",")) / 3.0,
        "digits": len(_DIGIT.findall(text)) / max(n_chars, 1),
        "avg_word": min(sum(map(len, words)) / max(n_words, 1), 15.0) / 10.0,
        "short_words": sum(1 for w in words if len(w) <= 3) / max(n_words, 1),
        "ends_sentence": 1.0 if text.rstrip().endswith(_SENT_END) else 0.0,
        "ends_colon": 1.0 if text.rstrip().endswith(":") else 0.0,
        "titlecase": sum(1 for w in text.split() if w[:1].isupper()) / max(n_words, 1),
        "paren": 1.0 if text.startswith("(") and text.endswith(")") else 0.0,
    }
    hits: dict[str, int] = {}
    for m in _CUES.finditer(text):
        hits[m.lastgroup] = hits.get(m.lastgroup, 0) + 1
    for name, k in hits.items():
        stats["cue_" + name] = min(k, 5) / 5.0
        stats["cue_" + name + "_density"] = min(k * 12 / max(n_words, 1), 1.0)
    return words, stats


@functools.lru_cache(maxsize=8192)
def named(prefix: str, tokens: tuple[str, ...] | frozenset[str]) -> dict[str, float]:
    """Prefixed binary features for a token set; cached, as blocks share their ancestors'.

    The returned dict is shared: callers only read it (dict.update).
    """
    return {prefix + t: 1.0 for t in tokens}


def _best_container(blocks: Sequence[Block]) -> str:
    """The xpath of the element whose paragraphs hold the most running text.

    Like readability: credit each prose-like block's text to its parent and (half) to
    its grandparent, then take the best-scored element.
    """
    scores: dict[str, float] = {}
    for b in blocks:
        n = len(b.text)
        if n < 60 or b.link_density > 0.3:
            continue
        parent = b.xpath.rsplit("/", 1)[0]
        grand = parent.rsplit("/", 1)[0]
        credit = min(n, 1200) * (1.0 + b.text.count(",") * 0.1)
        scores[parent] = scores.get(parent, 0.0) + credit
        scores[grand] = scores.get(grand, 0.0) + credit / 2
    if not scores:
        return ""
    return max(scores.items(), key=lambda kv: kv[1])[0]


def page_features(blocks: Sequence[Block]) -> list[dict[str, float]]:
    """Features for every block of one page, own plus context."""
    n = len(blocks)
    if n == 0:
        return []
    own: list[dict[str, float]] = []
    words_of: list[list[str]] = []
    for b in blocks:
        words, stats = _text_stats(b.text)
        stats["link_density"] = b.link_density
        stats["links"] = math.log1p(b.n_links) / 3.0
        stats["depth"] = min(b.depth, 40) / 20.0
        words_of.append(words)
        own.append(stats)

    max_len = max(len(b.text) for b in blocks)
    total_len = sum(len(b.text) for b in blocks)
    best = _best_container(blocks)
    best_depth = best.count("/")
    in_best = [bool(best) and (b.xpath + "/").startswith(best + "/") for b in blocks]
    # distance (in blocks) to the nearest block inside the best container
    dist = [n] * n
    last = -n
    for i in range(n):
        if in_best[i]:
            last = i
        dist[i] = i - last
    last = 2 * n
    for i in range(n - 1, -1, -1):
        if in_best[i]:
            last = i
        dist[i] = min(dist[i], last - i)
    first_best = in_best.index(True) if any(in_best) else n
    last_best = n - 1 - in_best[::-1].index(True) if any(in_best) else -1

    feats: list[dict[str, float]] = []
    heading_words: list[str] = []
    heading_at = -100
    for i, b in enumerate(blocks):
        f = dict(own[i])
        words = words_of[i]
        f["pos"] = i / n
        f["rel_len"] = len(b.text) / max_len
        f["share"] = len(b.text) / total_len
        f["tag=" + b.tag] = 1.0
        f.update(named("in=", b.ancestor_tags))
        f.update(named("own=", b.own_tokens))
        f.update(named("par=", b.parent_tokens))
        f.update(named("anc=", b.ancestor_tokens))
        for t in b.inline_tokens:
            f["inl=" + t] = 1.0
        if len(words) <= SHORT_WORDS:
            for w in words:
                f["w=" + ("0" if w.isdigit() else w)] = 1.0
        else:
            f["long"] = 1.0
        if words:
            f["first=" + ("0" if words[0].isdigit() else words[0])] = 1.0
        # the heading a block sits under says what kind of box it is in
        if i - heading_at <= 12:
            for w in heading_words:
                f["sect=" + w] = 1.0
        # main-container evidence
        f["in_best"] = 1.0 if in_best[i] else 0.0
        f["best_dist"] = math.log1p(dist[i]) / 5.0
        f["before_best"] = 1.0 if i < first_best else 0.0
        f["after_best"] = 1.0 if i > last_best else 0.0
        if best:
            common = _common_depth(b.xpath, best)
            f["best_common"] = common / max(best_depth, 1)
        # neighbours
        for off in (-2, -1, 1, 2):
            j = i + off
            key = f"n{off:+d}_"
            if 0 <= j < n:
                o = own[j]
                f[key + "len"] = o["len"]
                f[key + "link"] = o["link_density"]
                f[key + "end"] = o["ends_sentence"]
                if abs(off) == 1:
                    f[key + "tag=" + blocks[j].tag] = 1.0
                    f[key + "best"] = 1.0 if in_best[j] else 0.0
            else:
                f[key + "none"] = 1.0
        lo, hi = max(0, i - 3), min(n, i + 4)
        f["win_len"] = sum(own[j]["len"] for j in range(lo, hi)) / (hi - lo)
        f["win_link"] = sum(own[j]["link_density"] for j in range(lo, hi)) / (hi - lo)
        if b.tag in HEADINGS or (len(words) <= 6 and b.text.rstrip().endswith(":")):
            heading_words = words[:6]
            heading_at = i
        feats.append(f)
    return feats


def _common_depth(a: str, b: str) -> int:
    """Number of xpath steps two paths share from the root."""
    prefix = os.path.commonprefix([a + "/", b + "/"])
    return max(prefix[: prefix.rfind("/") + 1].count("/") - 1, 0)


CONTEXT_FEATURES = (
    "p", "logit", "p_prev", "p_next", "p_prev2", "p_next2", "win3", "win10", "max3",
    "mass_before", "mass_after", "between", "parent_mean", "len", "link", "edge",
    "special", "special_strong", "special_prev", "special_next", "special_win",
    "special_x_p",
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
    return out


def block_context_inputs(blocks: Sequence[Block]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """chars, link density and a parent-element id per block, for context_features."""
    parents: dict[str, int] = {}
    pid = [parents.setdefault(b.xpath.rsplit("/", 1)[0], len(parents)) for b in blocks]
    chars = np.array([len(b.text) for b in blocks], dtype=float)
    link = np.array([b.link_density for b in blocks], dtype=float)
    return chars, link, np.array(pid, dtype=np.int64)
