"""Training labels: fingerprints, gold alignment, stored hand labels, text-keyed labels."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import make_blocks

from classifier.labels import (
    StoredLabel,
    align_body,
    align_snippets,
    fingerprint,
    load_stored_labels,
    match_text_label,
    page_labels,
)

GOLD = (
    "The river rose three metres overnight and flooded the lower town. "
    "Volunteers filled sandbags until dawn while the fire brigade pumped water "
    "out of the school basement. The mayor thanked everyone who helped."
)

# ------------------------------------------------------------------------ fingerprint


def test_fingerprint_is_documented_sha1_prefix():
    text = "Volunteers filled sandbags until dawn."
    expected = hashlib.sha1(text.lower().encode("utf-8")).hexdigest()[:16]
    assert fingerprint(text) == expected
    assert len(expected) == 16 and int(expected, 16) >= 0


@pytest.mark.parametrize(
    "variant",
    [
        "Volunteers filled sandbags until dawn.",
        "  Volunteers   filled\nsandbags\tuntil dawn.  ",
        "VOLUNTEERS FILLED SANDBAGS UNTIL DAWN.",
        "volunteers filled sandbags\u00a0until dawn.",  # no-break space is whitespace too
    ],
)
def test_fingerprint_ignores_whitespace_and_case(variant):
    assert fingerprint(variant) == fingerprint("Volunteers filled sandbags until dawn.")


def test_fingerprint_tells_different_texts_apart():
    a = fingerprint("Volunteers filled sandbags until dawn.")
    assert fingerprint("Volunteers filled sandbags until noon.") != a
    assert fingerprint("Volunteers filled sandbags until dawn") != a  # punctuation counts
    assert "Volunteers" not in a


# ------------------------------------------------------------------------ align_body


def test_align_body_content_boilerplate_and_unsure():
    blocks = make_blocks(
        "The river rose three metres overnight and flooded the lower town.",  # in gold
        "Subscribe to our newsletter for the latest updates every morning",  # not in gold
        # 6 gold words then 4 others: 3 of 7 shingles match (0.43) -> unsure
        "Volunteers filled sandbags until dawn while cats dogs birds fish",
        "The mayor",  # 2 words, found in the gold -> content
        "Volunteers",  # 1 word found: proves nothing -> unsure
        "Login",  # short, not in the gold -> boilerplate
        "\u2014 \u00b7 \u2014",  # no word at all -> unsure
    )
    assert align_body(blocks, GOLD) == [
        "content", "boilerplate", None, "content", None, "boilerplate", None,
    ]  # fmt: skip


def test_align_body_is_case_and_punctuation_insensitive():
    blocks = make_blocks("THE RIVER ROSE -- three metres, overnight; and flooded the LOWER town")
    assert align_body(blocks, GOLD) == ["content"]


def test_align_body_thresholds():
    gold = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
    # 10 tokens -> 7 shingles; k leading gold tokens give k-3 matching shingles
    half = make_blocks("alpha beta gamma delta epsilon zeta eta x1 x2 x3")  # 4/7 = 0.57
    low = make_blocks("alpha beta gamma delta x1 x2 x3 x4 x5 x6")  # 1/7 = 0.14
    assert align_body(half, gold) == ["content"]
    assert align_body(low, gold) == ["boilerplate"]


def test_align_body_with_empty_gold_calls_everything_boilerplate():
    blocks = make_blocks("The river rose three metres overnight.", "The mayor")
    assert align_body(blocks, "") == ["boilerplate", "boilerplate"]


# ------------------------------------------------------------------------ align_snippets


def test_align_snippets():
    blocks = make_blocks(
        "The river rose three metres overnight and flooded the lower town.",
        "Share this story on social media",
        "Nothing to do with any snippet.",
        "Volunteers filled sandbags until dawn",  # inside a with-snippet, but < 40 chars
        "out of the school basement. The mayor thanked everyone",  # inside, >= 40 chars
    )
    with_ = [
        "rose three   metres\novernight",
        "Volunteers filled sandbags until dawn while the fire brigade pumped water out of "
        "the school basement. The mayor thanked everyone who helped.",
        "   ",  # blank snippets are ignored rather than matching everything
    ]
    without = ["Share this story"]
    assert align_snippets(blocks, with_, without) == [
        "content", "boilerplate", None, None, "content",
    ]  # fmt: skip


def test_align_snippets_with_wins_over_without():
    blocks = make_blocks("Donate now. The river rose three metres overnight.")
    assert align_snippets(blocks, ["river rose three"], ["Donate now"]) == ["content"]


def test_align_snippets_empty_lists():
    assert align_snippets(make_blocks("a b c"), [], []) == [None]


# ------------------------------------------------------------------------ stored labels


def _row(**kw) -> str:
    row = {"corpus": "demo", "id": "7", "fingerprint": "0123456789abcdef", "label": "content"}
    row.update(kw)
    return json.dumps(row)


def test_load_stored_labels_from_files_and_dirs(tmp_path):
    d = tmp_path / "labels"
    d.mkdir()
    (d / "a.jsonl").write_text(
        _row() + "\n\n" + _row(id=8, label="related_links", source="rule-reviewed") + "\n"
    )
    (d / "ignored.txt").write_text("not json at all")
    single = tmp_path / "b.jsonl"
    single.write_text(_row(fingerprint="fedcba9876543210", label="counter_widget") + "\n")
    got = load_stored_labels([d, single])
    assert got == {
        ("demo", "7", "0123456789abcdef"): StoredLabel(
            "demo",
            "7",
            "0123456789abcdef",
            "content",
            "hand",  # source defaults to hand
        ),
        ("demo", "8", "0123456789abcdef"): StoredLabel(
            "demo", "8", "0123456789abcdef", "related_links", "rule-reviewed"
        ),
        ("demo", "7", "fedcba9876543210"): StoredLabel(
            "demo", "7", "fedcba9876543210", "counter_widget", "hand"
        ),
    }
    assert load_stored_labels([]) == {}


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (_row(label="advert"), ["unknown label", "'advert'", "donation_appeal"]),
        (_row(label=None), ["unknown label", "None"]),
        (_row(source="guessed"), ["unknown source", "'guessed'", "rule-reviewed"]),
    ],
)
def test_load_stored_labels_rejects_bad_rows_with_file_and_line(tmp_path, bad, words):
    f = tmp_path / "bad.jsonl"
    f.write_text(_row() + "\n\n" + bad + "\n" + _row(id=9) + "\n")
    with pytest.raises(ValueError) as info:
        load_stored_labels([f])
    message = str(info.value)
    assert f"{f}:3:" in message  # the blank line 2 still counts
    for w in words:
        assert w in message


def test_load_stored_labels_names_file_and_line_of_malformed_json(tmp_path):
    f = tmp_path / "broken.jsonl"
    f.write_text(_row() + "\n" + '{"corpus": "demo", "id": ' + "\n")
    with pytest.raises(ValueError, match=rf"{f.name}:2"):
        load_stored_labels([f])


def test_page_labels_stored_overrides_aligned_and_related():
    blocks = make_blocks(
        "The river rose three metres overnight and flooded the lower town.",
        "Related: Flood defences to be reviewed next year",
        "Please support our local reporting today",
    )
    gold = {"id": "p1", "body": GOLD, "related": ["Flood defences to be reviewed next year"]}
    fp = fingerprint(blocks[2].text)
    stored = {("demo", "p1", fp): StoredLabel("demo", "p1", fp, "donation_appeal", "hand")}
    labels, sources = page_labels("demo", gold, blocks, stored)
    assert labels == ["content", "related_links", "donation_appeal"]
    assert sources == ["gold-aligned", "gold-aligned", "hand"]
    # a label stored for another corpus or page does not apply
    labels, _ = page_labels("other", gold, blocks, stored)
    assert labels[2] == "boilerplate"


# ------------------------------------------------------------------------ match_text_label


def test_match_text_label():
    blocks = make_blocks(
        "Home",  # 0: short block inside the label text: too short to count
        "Support independent journalism",  # 1: inside the label text, >= 12 chars
        "SUPPORT  our work: become a member",  # 2: equal up to case/space
        "Become a member today and get the newsletter",  # 3: holds the label as most of it
        "A long paragraph that merely mentions become a member somewhere in the middle of "
        "a great many other words about rivers.",  # 4: label is a small part of it
    )
    label = "Support independent journalism. Home. Support our work: become a member"
    assert match_text_label(blocks, label) == [1, 2]  # "Home" is too short to be covered
    assert match_text_label(blocks, "support our work:   become a MEMBER") == [2]
    assert match_text_label(blocks, "become a member today and get the") == [3]
    assert match_text_label(blocks, "become a member") == []  # too small a part of 2, 3, 4
    assert match_text_label(blocks, "Home") == [0]
    assert match_text_label(blocks, "   ") == []


def test_match_text_label_skips_pieces_that_recur_or_are_not_counters():
    blocks = make_blocks(
        "Mitteldeutschland",  # 0: a menu item
        "Mitteldeutschland",  # 1: the same text in the counter line
        "61.783.588 Views",  # 2: the counter itself
        "Spiele-Trailer und Videos",  # 3: the title beside the counter: no number
        "Mitteldeutschland",  # 4: the menu again, in the footer
    )
    line = "Mitteldeutschland Spiele-Trailer und Videos 61.783.588 Views"
    # the recurring piece would label all three menu copies; the title is no counter
    assert match_text_label(blocks, line, "counter_widget") == [2]
    # without a label the piece rule still refuses the recurring text
    assert 0 not in match_text_label(blocks, line)


def test_match_text_label_keeps_a_recurring_headline_of_a_related_box():
    blocks = make_blocks(
        "Barton handed a twelve match suspension",  # 0: a teaser in "Related"
        "Queens Park Rangers",  # 1: a menu item, also in the box
        "Barton handed a twelve match suspension",  # 2: the same teaser in "Most read"
        "Queens Park Rangers",  # 3
    )
    box = "Related: Barton handed a twelve match suspension. Queens Park Rangers"
    assert match_text_label(blocks, box, "related_links") == [0, 2]
