"""Output formats and flags of a cleaned Page, on hand-labelled blocks (no model)."""

from __future__ import annotations

import json

from classifier.clean import Page
from classifier.decode import parse
from classifier.segment import segment

HTML = """<html><body>
<nav><a href="/">Home</a> <a href="/donate">Donate</a></nav>
<article>
<h2 data-label="content">A headline &amp; more</h2>
<p data-label="content">First paragraph of the story, long enough to be a paragraph.</p>
<ul data-label="content"><li>one point</li><li>another point</li></ul>
<blockquote data-label="content"><p>A quoted sentence.</p></blockquote>
<div data-label="donation_appeal"><p>Subscribe to continue reading. Already a subscriber?
 <a href="/login">Log in</a></p></div>
</article></body></html>"""


def page(keep: frozenset[str] = frozenset({"content"})) -> Page:
    blocks = segment(parse(HTML))
    for b in blocks:  # use the authored labels instead of a model's
        b.label = b.gold or "boilerplate"
        b.confidence = 1.0
    return Page(title="T", blocks=blocks, keep=keep)


def test_text_keeps_only_content_in_order():
    assert page().text.split("\n\n") == [
        "A headline & more",
        "First paragraph of the story, long enough to be a paragraph.",
        "one point",
        "another point",
        "A quoted sentence.",
    ]


def test_keep_more_labels():
    assert "Subscribe to continue reading" in page(frozenset({"content", "donation_appeal"})).text
    assert "Subscribe" not in page().text


def test_markdown_marks_headings_lists_and_quotes():
    md = page().to_markdown()
    assert "## A headline & more" in md
    assert "- one point" in md
    assert "> A quoted sentence." in md
    assert "Donate" not in md


def test_html_is_escaped_and_holds_only_content():
    out = page().to_html()
    assert "<h2>A headline &amp; more</h2>" in out
    assert "<li>one point</li>" in out
    assert "Subscribe" not in out and "Donate" not in out


def test_dict_is_json_ready_and_flags_the_paywall():
    d = json.loads(json.dumps(page().to_dict()))
    assert d["paywalled"] is True
    assert {b["label"] for b in d["blocks"]} == {"content", "donation_appeal", "boilerplate"}
    assert all(set(b) >= {"text", "label", "confidence", "tag", "xpath"} for b in d["blocks"])


def test_plain_appeal_is_not_a_paywall():
    blocks = segment(parse("<p>Become a Patron!</p>"))
    blocks[0].label = "donation_appeal"
    assert Page(title="", blocks=blocks).paywalled is False


def test_a_special_kind_with_enough_of_the_non_content_mass_wins_over_boilerplate():
    import numpy as np

    from classifier.model import LABELS, SPECIAL_SHARE, decide

    labels = list(LABELS)  # content, donation_appeal, related_links, counter_widget, boilerplate
    proba = np.array([
        [0.60, 0.10, 0.10, 0.00, 0.20],  # content: P(content) >= 0.5 decides
        [0.20, 0.40, 0.00, 0.00, 0.40],  # appeal holds half the rest: appeal
        [0.00, 0.30, 0.00, 0.00, 0.70],  # 30% < SPECIAL_SHARE of the rest: boilerplate
        [0.00, 0.10, 0.45, 0.00, 0.45],  # related holds 45%: related
    ])  # fmt: skip
    assert SPECIAL_SHARE == 0.4
    got = [labels[k] for k in decide(proba, labels)]
    assert got == ["content", "donation_appeal", "boilerplate", "related_links"]


def _run_case(gap_evidence: list[float], anchors: tuple[float, float] = (0.99, 0.98)):
    """An appeal, len(gap_evidence) prose-like blocks, an appeal, then a story paragraph."""
    import numpy as np

    from classifier.model import LABELS, decide, fill_runs

    labels = list(LABELS)
    appeal = [0.10, 0.85, 0.00, 0.00, 0.05]
    prose = [0.90, 0.08, 0.00, 0.00, 0.02]  # the kind model leans to the appeal
    story = [0.97, 0.00, 0.02, 0.00, 0.01]
    n = len(gap_evidence)
    proba = np.array([appeal] + [prose] * n + [appeal] + [story])
    evidence = np.array([anchors[0], *gap_evidence, anchors[1], 0.01])
    return [labels[k] for k in fill_runs(decide(proba, labels), proba, evidence, labels)]


def test_prose_between_two_sure_appeal_blocks_joins_the_appeal():
    got = _run_case([0.58, 0.25])
    assert got == ["donation_appeal"] * 4 + ["content"]


def test_a_less_sure_appeal_block_inside_the_run_neither_bounds_nor_breaks_it():
    """Sure appeal, appeal the kind model is 0.83 sure of, prose, sure appeal (the seed
    page's box): the middle appeal is no anchor, but the prose between the two sure
    ones still joins the run; with the last anchor unsure, nothing is filled."""
    import numpy as np

    from classifier.model import LABELS, decide, fill_runs

    labels = list(LABELS)
    appeal = [0.10, 0.85, 0.00, 0.00, 0.05]
    prose = [0.55, 0.39, 0.00, 0.00, 0.06]
    story = [0.97, 0.00, 0.02, 0.00, 0.01]
    proba = np.array([appeal, appeal, prose, appeal, story])

    def run(last: float) -> list[str]:
        evidence = np.array([1.0, 0.83, 0.61, last, 0.01])
        return [labels[k] for k in fill_runs(decide(proba, labels), proba, evidence, labels)]

    assert run(1.0) == ["donation_appeal"] * 4 + ["content"]
    assert run(0.6)[2] == "content"


def test_run_filling_needs_kind_evidence_sure_anchors_and_a_short_gap():
    from classifier.model import RUN_GAP

    # one gap block the kind model does not see as an appeal keeps the whole gap
    assert _run_case([0.58, 0.05])[1:3] == ["content", "content"]
    # a bounding block the kind model only half believes in fills nothing
    assert _run_case([0.58, 0.25], anchors=(0.99, 0.6))[1:3] == ["content", "content"]
    # a gap longer than RUN_GAP is story between two appeals, not one appeal
    assert set(_run_case([0.6] * (RUN_GAP + 1))[1:-2]) == {"content"}


def test_a_page_without_a_content_block_keeps_the_blocks_that_came_close():
    import numpy as np

    from classifier.model import LABELS, RESCUE_MIN, decide, rescue_content

    labels = list(LABELS)

    def verdicts(p_content: list[float]) -> list[str]:
        proba = np.array([[p, 0.0, 0.0, 0.0, 1.0 - p] for p in p_content])
        return [labels[k] for k in rescue_content(decide(proba, labels), proba, labels)]

    # nothing reached 0.5: the best block and those with half its P(content) are kept
    assert verdicts([0.05, 0.40, 0.25, 0.15]) == [
        "boilerplate", "content", "content", "boilerplate"
    ]
    # a page with a content block is left alone
    assert verdicts([0.05, 0.60, 0.45]) == ["boilerplate", "content", "boilerplate"]
    # a page of menus and links (nothing near content) stays empty
    assert verdicts([RESCUE_MIN / 2, 0.05]) == ["boilerplate", "boilerplate"]
