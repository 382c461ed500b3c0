"""Feature stage: the fast paths give the same numbers as the plain definitions."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import AUTHORED_PAGES, SEED_PAGES

from classifier import features as F
from classifier.decode import parse
from classifier.segment import segment

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"
CUE_SAMPLES = [
    "Become a Patron!", "Please donate today", "Support us on Ko-fi", "Jetzt spenden",
    "Unterstützen Sie unsere Arbeit", "Soutenez-nous : faire un don", "Hazte socio",
    "Already a subscriber? Log in to continue", "Subscribe to our newsletter", "Sign up",
    "Related posts", "You may also like", "Read more", "Lesen Sie auch", "Mehr zum Thema",
    "À lire aussi", "Voir aussi", "Artículos relacionados", "Te puede interesar",
    "Most read", "Next post", "(Visited 1 times, 1 visits today)", "1,234 views",
    "Aufrufe: 88", "Lu 532 fois", "Post Views: 1,234", "A plain paragraph about a harbour.",
]  # fmt: skip


def _texts() -> list[str]:
    pages = SEED_PAGES + sorted(AUTHORED_PAGES.glob("*.html"))
    return CUE_SAMPLES + [b.text for p in pages for b in segment(parse(p.read_bytes()))]


def test_cue_prefilter_never_hides_a_match():
    """The word-set check before each cue regex must not change any cue count."""
    texts = _texts()
    assert len(texts) > 1000
    for text in texts:
        counts = _counts(text)
        lower = text.lower()
        for name in ("donate", "related", "counter"):
            k = len(re.compile(F._CUE_PARTS[name].pattern).findall(lower))
            assert counts["cue_" + name] == k, (name, text)


def _counts(text: str) -> dict[str, float]:
    from array import array

    counts, _ = F._chunk_counts([text], array("i"))
    return dict(zip(F._COUNTS, counts[0], strict=True))


def test_page_arithmetic_matches_the_plain_definitions():
    """extract's per-page array arithmetic gives the per-block formulas."""
    import math

    texts = ["Become a Patron!", "(Visited 1 times, 1 visits today)", "", "Related:",
             "Ein Absatz, mit Kommas, und 42 Zahlen; und Wörtern aus drei Buchstaben."]  # fmt: skip
    blocks = [segment(parse(f"<p>{t}</p>"))[0] if t else None for t in texts]
    blocks = [b for b in blocks if b is not None]
    dense = F.extract(blocks).dense
    for b, row in zip(blocks, dense, strict=True):
        words = F._WORD.findall(b.text.lower())
        per_word = 1.0 / max(len(words), 1)
        c = _counts(b.text)
        expected = {
            "len": math.log1p(len(b.text)) / 8.0,
            "words": math.log1p(len(words)) / 6.0,
            "commas": math.log1p(b.text.count(",")) / 3.0,
            "avg_word": min(sum(map(len, words)) * per_word, 15.0) / 10.0,
            "short_words": sum(len(w) <= 3 for w in words) * per_word,
            "ends_sentence": float(b.text.rstrip().endswith(F._SENT_END)),
            "paren": float(b.text.startswith("(") and b.text.endswith(")")),
            "cue_counter_density": min(c["cue_counter"] * 12 * per_word, 1.0),
        }
        for name, value in expected.items():
            assert row[F.OWN.index(name)] == pytest.approx(value, abs=1e-12), (name, b.text)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/corpora not available")
def test_cue_prefilter_on_corpus_pages():
    import gzip

    files = sorted((SHARED / "web2026-dev" / "pages").glob("*.html.gz"))[:60]
    for f in files:
        for b in segment(parse(gzip.decompress(f.read_bytes()))):
            counts = _counts(b.text)
            lower = b.text.lower()
            for name in ("donate", "related", "counter"):
                k = len(re.compile(F._CUE_PARTS[name].pattern).findall(lower))
                assert counts["cue_" + name] == k, (name, b.text)


def test_container_position_matches_the_definition():
    """Per-parent shortcuts give the per-block definitions, the container's own blocks
    and its ancestors included."""
    checked = 0
    for path in SEED_PAGES + sorted(AUTHORED_PAGES.glob("*.html")):
        blocks = segment(parse(path.read_bytes()))
        parents = [b.xpath.rpartition("/")[0] for b in blocks]
        distinct = list(dict.fromkeys(parents))
        pid = [distinct.index(p) for p in parents]
        candidates = {F._best_container(blocks, parents)} | set(parents[:3]) | {"/html/body"}
        for best in candidates:
            depth = max(best.count("/"), 1)
            in_best, share = F._container_position(blocks, distinct, np.array(pid), best)
            assert list(in_best) == [(b.xpath + "/").startswith(best + "/") for b in blocks]
            assert share == pytest.approx([F._common_depth(b.xpath, best) / depth
                                           for b in blocks])  # fmt: skip
            checked += 1
    assert checked > 100


def test_dense_and_dict_features_agree():
    blocks = segment(parse(SEED_PAGES[0].read_bytes()))
    feats = F.extract(blocks)
    dicts = feats.to_dicts()
    assert len(dicts) == len(blocks)
    for row, d in zip(feats.dense, dicts, strict=True):
        for j, name in enumerate(F.DENSE):
            assert d.get(name, 0.0) == row[j]
    assert any(k.startswith("anc=") for d in dicts for k in d)


def test_chunked_counting_gives_the_same_features(monkeypatch):
    """Long pages are counted a chunk of blocks at a time; chunk edges change nothing."""
    blocks = segment(parse(SEED_PAGES[0].read_bytes()))
    whole = F.extract(blocks)
    monkeypatch.setattr(F, "_CHUNK", 7)
    chunked = F.extract(blocks)
    assert len(blocks) > 3 * 7
    assert np.array_equal(whole.dense, chunked.dense)
    assert whole.names == chunked.names


def test_feature_names_do_not_depend_on_string_hashing():
    """Set-valued features are listed sorted, so training tables (and models) built in
    different processes put their columns in the same order."""
    import subprocess
    import sys

    code = (
        "from classifier.features import extract; from classifier.decode import parse; "
        "from classifier.segment import segment; import sys; "
        "b = segment(parse(open(sys.argv[1], 'rb').read())); "
        "print([list(d) for d in extract(b).to_dicts()])"
    )
    outs = set()
    for seed in ("1", "2", "3"):
        env = {**__import__("os").environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", code, str(SEED_PAGES[0])],
                             capture_output=True, text=True, env=env, check=True)  # fmt: skip
        outs.add(run.stdout)
    assert len(outs) == 1


def test_context_features_see_the_page_as_a_whole():
    """A listing page (no block the first pass is sure of) looks different from an
    article page to the second pass, whatever block is scored."""
    chars = np.array([40.0, 300.0, 300.0, 60.0])
    link = np.zeros(4)
    parent = np.array([0, 1, 1, 2])
    names = list(F.CONTEXT_FEATURES)
    article = F.context_features(np.array([0.1, 0.9, 0.8, 0.2]), chars, link, parent)
    listing = F.context_features(np.array([0.1, 0.4, 0.3, 0.2]), chars, link, parent)
    assert list(article[:, names.index("page_max")]) == [0.9] * 4
    assert list(listing[:, names.index("page_max")]) == [0.4] * 4
    assert article[0, names.index("page_share")] == pytest.approx(600 / 700)
    assert listing[0, names.index("page_share")] == 0.0


def test_a_reviser_trained_on_fewer_context_columns_still_scores():
    """Models saved before the page-level columns existed keep working."""
    from classifier.model import LABELS, Linear, revise_proba

    n_old = len(F.CONTEXT_FEATURES) - 2
    old = Linear(coef_=np.full((1, n_old), 0.1), intercept_=np.array([-0.5]))
    proba = np.array([[0.7, 0.1, 0.1, 0.0, 0.1], [0.2, 0.0, 0.3, 0.0, 0.5]])
    out = revise_proba(old, proba, np.zeros(2), list(LABELS), np.array([100.0, 20.0]),
                       np.zeros(2), np.array([0, 0]))  # fmt: skip
    assert out.shape == proba.shape
    assert np.allclose(out.sum(axis=1), 1.0)


def test_kind_context_sees_the_siblings_of_a_list_item():
    """An item without a cue word sits under a parent whose other items the kind model
    calls related links: the parent-mean and near-max columns carry that over."""
    # kind model classes: boilerplate, related; 5 blocks, items 1-3 share parent 1
    kp = np.array([[0.9, 0.1], [0.1, 0.9], [0.8, 0.2], [0.1, 0.9], [0.95, 0.05]])
    parent = np.array([0, 1, 1, 1, 2])
    out = F.kind_context_features(kp, np.full(5, 40.0), np.ones(5), parent)
    k = 2
    col = {name: i * k for i, name in enumerate(F.KIND_CONTEXT)}
    related = 1
    assert out.shape == (5, len(F.KIND_CONTEXT) * k + 3)
    assert out[2, col["parent_mean"] + related] == pytest.approx((0.9 + 0.2 + 0.9) / 3)
    assert out[0, col["parent_mean"] + related] == pytest.approx(0.1)  # alone under its parent
    assert out[2, col["prev"] + related] == 0.9 and out[2, col["next"] + related] == 0.9
    assert out[2, col["near_max"] + related] == 0.9
    assert out[0, col["prev"] + related] == 0.0  # nothing before the first block
    assert out[2, -3] == pytest.approx(np.log(3) / 5)  # three blocks share its parent


def test_group_stats_tell_a_headline_list_from_a_menu():
    """Repeated items (same xpath up to the last steps' indices) share the grp_ columns."""
    html = (
        "<html><body><nav><ul>" + "".join(f"<li><a href='/s{i}'>Sect{i}</a></li>" for i in range(5))
        + "</ul></nav><article>" + "".join(f"<p>Paragraph {i} tells the story in many plain "
        "words, and then some more words follow.</p>" for i in range(4))
        + "</article><aside><ul>" + "".join(f"<li><a href='/a{i}'>Another headline about "
        f"topic {i} and more</a></li>" for i in range(4)) + "</ul></aside></body></html>"
    )  # fmt: skip
    blocks = segment(parse(html.encode()))
    feats = F.extract(blocks)
    col = {name: feats.dense[:, F.DENSE.index(name)] for name in
           ("grp_n", "grp_words", "grp_link", "grp_end")}  # fmt: skip
    kind = ["menu" if b.text.startswith("Sect") else "story" if b.text.startswith("Para")
            else "teaser" for b in blocks]  # fmt: skip
    at = {k: kind.index(k) for k in ("menu", "story", "teaser")}
    assert col["grp_n"][at["menu"]] == pytest.approx(np.log1p(4) / 4)
    assert col["grp_n"][at["story"]] == pytest.approx(np.log1p(3) / 4)
    assert col["grp_link"][at["menu"]] == col["grp_link"][at["teaser"]] == 1.0
    assert col["grp_link"][at["story"]] == 0.0
    assert col["grp_words"][at["menu"]] < col["grp_words"][at["teaser"]]
    assert col["grp_end"][at["story"]] == 1.0


def test_group_items_tell_comments_from_a_story():
    """A story's paragraphs share one parent; each comment's byline and text sit in
    boxes of their own (one group of 12 blocks over 12 parents), so grp_items is high
    for the comments and 0 for the story."""
    words = "Readers wrote in about the flood barrier and what it will cost the town. "
    story = "".join(f"<p>{i} {words}{words}</p>" for i in range(4))
    comments = "".join(f"<div class='c'><div class='who'><p>by reader{i} on May {i}</p>"
                       f"</div><div class='body'><p>{i} {words}</p></div></div>"
                       for i in range(6))  # fmt: skip
    html = (f"<html><body><div><article>{story}</article></div>"
            f"<div><section>{comments}</section></div></body></html>")
    blocks = segment(parse(html.encode()))
    items = F.extract(blocks).dense[:, F.DENSE.index("grp_items")]
    is_comment = [b.xpath.count("section") > 0 for b in blocks]
    assert sum(is_comment) == 12 and len(blocks) == 16
    for b, v, c in zip(blocks, items, is_comment, strict=True):
        assert v == pytest.approx(np.log1p(11) / 4 if c else 0.0), b.text


def test_in_thread_marks_a_comment_section_opened_by_its_heading():
    """Comments without a "comment" class: the "3 Comments" heading opens the section
    (its grandparent element), so its blocks are marked until the section ends; the
    story before it, the sidebar after it and a byline's "Comments: 3" counter are not."""
    words = "Readers wrote in about the flood barrier and what it will cost the town. "
    story = "<p>Posted by Ann | Comments: 3</p>" + "".join(
        f"<p>{i} {words}{words}</p>" for i in range(3))
    comments = "".join(f"<div><p>by reader{i}</p><p>{i} {words}</p></div>" for i in range(3))
    html = (f"<html><body><div id='main'><article>{story}</article>"
            f"<div><div><h3>3 Comments</h3><p>Comments are moderated.</p></div>{comments}"
            f"</div></div><aside><p>About this blog and its authors, since 2004.</p></aside>"
            "</body></html>")  # fmt: skip
    blocks = segment(parse(html.encode()))
    mark = F.extract(blocks).dense[:, F.DENSE.index("in_thread")]
    got = [b.text[:10] for b, m in zip(blocks, mark, strict=True) if m]
    assert got == ["3 Comments", "Comments a", "by reader0", "0 Readers ", "by reader1",
                   "1 Readers ", "by reader2", "2 Readers "]  # fmt: skip


def test_thread_heading_patterns():
    """Section headings in several languages count; a linked count, a byline counter,
    a story heading that merely mentions comments, and a forum's "Replies" do not."""
    words = "Readers wrote in about the flood barrier and what it will cost the town."

    def head(text: str, tag: str = "p", link: bool = False) -> bool:
        inner = f"<a href='#c'>{text}</a>" if link else text
        html = f"<html><body><{tag}>{inner}</{tag}><p>{words}</p></body></html>"
        blocks = segment(parse(html.encode()))
        return bool(F.extract(blocks).dense[0, F.DENSE.index("in_thread")])

    # one heading per alternative of _THREAD, so that _THREAD_WORDS (the cheap check
    # run first) cannot silently fall out of step with it
    for text in ("45 comments", "3 Responses to “Flood barrier”", "Leave a Reply",
                 "Kommentare", "12 commentaires", "Comentarios (4)", "Comments",
                 "12 thoughts on “Flood barrier”", "Reader comments", "Responses to this post",
                 "Leserkommentare", "Commenti", "Reacties", "Leave a comment",
                 "Post a comment", "Join the discussion", "Join the conversation",
                 "Schreibe einen Kommentar", "Laisser un commentaire", "Deja un comentario",
                 "Lascia un commento", "3 Kommentare", "2 commenti", "5 reacties",
                 "1 comentario", "User comments"):  # fmt: skip
        assert head(text), text
    assert head("Comments (12)", tag="h3")
    # a theme's heading that repeats the post's title is long, but still a heading
    title = "“The December Comfort Watches 2025, Day Eighteen: Starship Troopers”"
    assert head(f"59 Comments on {title}", tag="h3")
    assert not head(f"59 Comments on {title}")
    for text in ("Comments: 28", "comments (0) October 25th", "Replies",
                 "Why comments sections are closing", "Comment is free"):  # fmt: skip
        assert not head(text), text
    assert not head("5 Comments", link=True)


def test_main_container_of_a_page_that_wraps_every_paragraph_in_its_own_section():
    """A template that puts each paragraph in section > div > p leaves no parent or
    grandparent with more than one paragraph; the container holding them all must
    still win over a sidebar whose two paragraphs share a div."""
    prose = ("Laptops draw far less power than desktops, and the gap grows under load, "
             "when a gaming card alone can pull more than a whole laptop. ")  # fmt: skip
    sections = "".join(f"<section><div><p>{i} {prose}{prose}</p></div></section>"
                       for i in range(12))  # fmt: skip
    html = (f"<html><body><div id='story'>{sections}</div>"
            f"<aside><div><p>{prose}</p><p>{prose}</p></div></aside></body></html>")
    blocks = segment(parse(html))
    parents = [b.xpath.rpartition("/")[0] for b in blocks]
    best = F._best_container(blocks, parents)
    assert best == "/html/body/div[1]"
    in_best = F.extract(blocks).dense[:, F.DENSE.index("in_best")]
    assert in_best[:12].all() and not in_best[12:].any()


def test_the_block_that_repeats_the_page_title_is_marked_as_the_headline():
    """The headline repeats the <title> (less the site name); a related story's
    heading shares a word or two at most, and without a title nothing is marked."""
    from classifier.segment import page_title

    html = ("<html><head><title>Harbour cranes return to Rotterdam after strike | "
            "Port Daily</title></head><body><h1>Harbour cranes return to Rotterdam after "
            "strike</h1><p>The cranes of the western harbour moved again on Monday after "
            "a strike of three weeks, the port authority said.</p><h3>Strike ends at "
            "Antwerp docks</h3><p>Port Daily</p></body></html>")  # fmt: skip
    root = parse(html)
    title = page_title(root, headline=False)
    assert title.startswith("Harbour cranes") and title.endswith("Port Daily")
    blocks = segment(root)
    dense = F.extract(blocks, title).dense
    share, cover = dense[:, F.DENSE.index("title_share")], dense[:, F.DENSE.index("title_cover")]
    assert [b.tag for b in blocks] == ["h1", "p", "h3", "p"]
    assert share[0] == 1.0 and cover[0] > 0.7
    assert share[1] == 0.0  # a long paragraph is not a headline candidate
    assert share[2] < 0.5 and cover[2] < 0.2
    assert share[3] == 1.0 and cover[3] < 0.3  # the site name: all its words, little of it
    assert not F.extract(blocks).dense[:, F.DENSE.index("title_share")].any()


def test_page_title_without_headline_fallback():
    root = parse("<html><body><h1>Only a headline</h1><p>Text.</p></body></html>")
    from classifier.segment import first_headline, page_title

    assert page_title(root) == "Only a headline" == first_headline(root)
    assert page_title(root, headline=False) == ""
    assert page_title(None) == "" == first_headline(None)


def test_a_footer_disclaimer_is_not_the_main_container_of_a_short_article():
    """An article of one paragraph and a list loses to two long footer paragraphs on
    raw text; text inside <footer> earns a tenth, so the article's div still wins."""
    para = ("A good rental safety program screens every prospective renter, checks the "
            "licence and records the condition of the vehicle at the counter. ")  # fmt: skip
    legal = ("This material is not intended to replace the advice of a qualified "
             "advisor, and products referenced are for general information only. ")  # fmt: skip
    items = "".join(f"<li>Rental step number {i}</li>" for i in range(5))
    html = (f"<html><body><main><div><p>{para}</p><ul>{items}</ul></div></main>"
            f"<footer><div><p>{legal * 4}</p><p>{legal * 4}</p></div></footer></body></html>")
    blocks = segment(parse(html))
    best = F._best_container(blocks, [b.xpath.rpartition("/")[0] for b in blocks])
    assert best.startswith("/html/body/main[1]")


def test_box_cues_reach_the_pieces_of_a_sign_up_form():
    """'Name' and 'Email' carry no cue word; the box around them (form plus heading)
    does, so their box_donate is set, while the story's paragraph and the items of an
    unrelated list get nothing from it."""
    story = "The council met on Tuesday to discuss the harbour plans for next year. " * 3
    html = ("<html><body><article><div><p>" + story + "</p></div></article>"
            "<aside><div class='box'><h3>Sign up for our newsletter</h3><form>"
            "<div>Name</div><div>Email</div></form></div>"
            "<div class='tags'><ul><li>Harbour</li><li>Council</li></ul></div></aside>"
            "</body></html>")  # fmt: skip
    blocks = segment(parse(html))
    dense = F.extract(blocks).dense
    box = {b.text: dense[i, F.DENSE.index("box_donate")] for i, b in enumerate(blocks)}
    assert box["Name"] > 0 and box["Email"] > 0
    assert box[story.strip()] == 0 and box["Harbour"] == 0 and box["Council"] == 0
