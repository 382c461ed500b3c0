"""Segment stage: an lxml tree -> text blocks in document order, with their position."""

from __future__ import annotations

import lxml.html
import pytest
from conftest import AUTHORED_PAGES, SEED_PAGES

from classifier.decode import parse
from classifier.segment import attr_tokens, page_title, segment


def blocks_of(body: str, head: str = ""):
    return segment(parse(f"<html><head>{head}</head><body>{body}</body></html>"))


def texts_of(body: str) -> list[str]:
    return [b.text for b in blocks_of(body)]


# ------------------------------------------------------------------------ invisible


def test_invisible_elements_are_dropped():
    body = """
    <p>visible one</p>
    <script>var leaked = "script text";</script>
    <style>.x { content: "style text"; }</style>
    <noscript><p>noscript text</p></noscript>
    <template><p>template text</p></template>
    <!-- comment text -->
    <p hidden>hidden attribute text</p>
    <div style="color: red; DISPLAY : none"><p>display none text</p></div>
    <p style="visibility:hidden">visibility hidden text</p>
    <p>visible <span style="display:none">inline hidden text</span>two</p>
    """
    assert texts_of(body) == ["visible one", "visible two"]


FORUM_THREAD = """
<header><a href="/">Skip to main content</a></header>
<div id="main-outlet"><noscript>
  <div class="topic-body crawler-post"><div class="post">
    <p>I rebuilt the carburettor on my 1972 moped last weekend and it still floods.</p>
    <p>The float needle looks fine, but fuel keeps pouring out of the overflow tube.</p>
  </div></div>
  <div class="topic-body crawler-post"><div class="post">
    <p>Check the float height: on those carburettors it should be about 22 millimetres.</p>
  </div></div>
</noscript></div>
<noscript><iframe src="https://www.googletagmanager.com/ns.html"></iframe></noscript>
"""


def test_a_page_served_in_noscript_is_read_from_there():
    """Discourse and the like put the whole thread in <noscript>: without JavaScript,
    that is the page a reader gets."""
    texts = texts_of(FORUM_THREAD)
    assert texts[0] == "Skip to main content"
    assert "The float needle looks fine, but fuel keeps pouring out of the overflow tube." in texts
    assert any(t.startswith("Check the float height") for t in texts)


def test_noscript_stays_dropped_when_the_page_has_more_text_outside():
    article = "<article>" + "<p>A long paragraph of the story itself, told in full.</p>" * 4
    notice = "<noscript><div><p>Please enable JavaScript to use all features.</p></div></noscript>"
    assert texts_of(article + notice + "</article>") == [
        "A long paragraph of the story itself, told in full."
    ] * 4
    # bare text in a <noscript> is markup the parser kept as text: it never counts
    bare = "<noscript>" + "&lt;img src=x&gt; tracking pixel " * 20 + "</noscript>"
    assert texts_of("<p>Short story.</p>" + bare) == ["Short story."]


def test_a_page_served_hidden_is_read_from_its_hidden_part():
    """A shop page whose product section is display:none until a script reveals it:
    the visible part is a header and menu, the product is what a reader sees."""
    product = "".join(f"<p>Crisp almond thins, baked in small batches, part {i}.</p>"
                      for i in range(8))  # fmt: skip
    body = ("<header><a href='/'>Shop</a> <a href='/cart'>Cart</a></header>"
            f"<div class='defer' style='display: none'>{product}</div>")  # fmt: skip
    texts = texts_of(body)
    assert "Crisp almond thins, baked in small batches, part 7." in texts
    # the same product section beside a visible story of similar size stays hidden
    story = "".join(f"<p>The council met on Monday to discuss the budget, item {i}.</p>"
                    for i in range(8))  # fmt: skip
    assert not any("almond" in t for t in texts_of(story + body))


def test_many_hidden_forms_do_not_make_a_page_hidden():
    """Only one hidden element holding several times the visible text counts: twenty
    hidden sign-up forms add up to more text than the story but are not the page."""
    story = "".join(f"<p>The council met on Monday to discuss the budget, item {i}.</p>"
                    for i in range(8))  # fmt: skip
    form = ("<div style='display:none'><label>Email address, first name, last name and "
            "your postcode please</label></div>")  # fmt: skip
    texts = texts_of(story + form * 20)
    assert not any("postcode" in t for t in texts)


def test_react_streamed_parts_are_shown():
    """React streams late parts of a page as <div hidden id="S:n">, moved into place by a
    script; other hidden elements stay hidden."""
    body = ("<main><p>Loading</p></main><div hidden id='S:0'><p>The streamed article "
            "paragraph.</p></div><div hidden id='menu'><p>A hidden menu</p></div>")  # fmt: skip
    assert texts_of(body) == ["Loading", "The streamed article paragraph."]


def test_ruby_readings_are_not_part_of_the_text():
    body = (
        "<p><ruby>最近<rp>(</rp><rt>さいきん</rt><rp>)</rp></ruby>、"
        "<ruby>親<rt>おや</rt></ruby>に</p>"
    )
    assert texts_of(body) == ["最近、親に"]


def test_tail_text_after_a_dropped_element_is_kept():
    assert texts_of("<p>before <script>x()</script>after</p>") == ["before after"]
    assert texts_of("<p>one <!-- note --> two</p>") == ["one two"]


def test_head_text_is_not_a_block():
    blocks = blocks_of("<p>body text</p>", head="<title>Title text</title>")
    assert [b.text for b in blocks] == ["body text"]


# ------------------------------------------------------------------------ block boundaries


def test_inline_markup_stays_in_one_block():
    body = (
        "<p>A <a href='/x'>link</a>, some <em>emphasis</em>, a <span class='k'>span</span>, "
        "<b>bold</b> and <code>code</code> in one sentence.</p>"
    )
    [block] = blocks_of(body)
    assert block.text == "A link, some emphasis, a span, bold and code in one sentence."
    assert block.tag == "p"


def test_whitespace_is_collapsed():
    assert texts_of("<p>  lots \n\n of\t   space  </p>") == ["lots of space"]


def test_single_br_does_not_split():
    [block] = blocks_of("<p>first line<br>second line<br/>third line</p>")
    assert block.text == "first line second line third line"


@pytest.mark.parametrize("brs", ["<br><br>", "<br/><br/>", "<br>\n  <br>"])
def test_double_br_splits_a_paragraph(brs):
    blocks = blocks_of(f"<div>first paragraph{brs}second paragraph</div>")
    assert [b.text for b in blocks] == ["first paragraph", "second paragraph"]
    assert {b.tag for b in blocks} == {"div"}
    assert blocks[0].xpath == blocks[1].xpath == "/html/body/div[1]"


def test_text_order_and_index():
    body = """
    <h1>one</h1><p>two</p>
    <div>three<p>four</p>five</div>
    <ul><li>six</li><li>seven <b>eight</b></li></ul>
    <table><tr><td>nine</td><td>ten</td></tr></table>
    eleven
    """
    blocks = blocks_of(body)
    assert [b.text for b in blocks] == [
        "one", "two", "three", "four", "five", "six", "seven eight", "nine", "ten", "eleven"
    ]  # fmt: skip
    assert [b.index for b in blocks] == list(range(len(blocks)))
    assert blocks[-1].tag == "body" and blocks[-1].xpath == "/html/body"


# ------------------------------------------------------------------------ links


def test_nav_list_is_all_link_text():
    blocks = blocks_of(
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/w'>World news</a></li>"
        "<li><a href='/a'>About us</a></li></ul></nav>"
    )
    assert [b.text for b in blocks] == ["Home", "World news", "About us"]
    for b in blocks:
        assert b.n_links == 1
        assert b.link_chars == len(b.text)
        assert b.link_density == 1.0
        assert "nav" in b.ancestor_tags


def test_partial_link_density():
    [block] = blocks_of("<p>Read <a href='/x'>this story</a> today, or <a href='/y'>that</a>.</p>")
    assert block.n_links == 2
    assert block.link_chars == len("this story") + len("that")
    assert block.link_density == pytest.approx(14 / len(block.text))
    [plain] = blocks_of("<p>No links at all.</p>")
    assert (plain.n_links, plain.link_chars, plain.link_density) == (0, 0, 0.0)


# ------------------------------------------------------------------------ tag and xpath


def test_tag_and_xpath():
    body = """
    <div><p>d1 p1</p><p>d1 p2</p></div>
    <div><h2>d2 heading</h2><p>d2 p1</p><section><ul><li>a</li><li>b</li></ul></section></div>
    """
    got = [(b.text, b.tag, b.xpath) for b in blocks_of(body)]
    assert got == [
        ("d1 p1", "p", "/html/body/div[1]/p[1]"),
        ("d1 p2", "p", "/html/body/div[1]/p[2]"),
        ("d2 heading", "h2", "/html/body/div[2]/h2[1]"),
        ("d2 p1", "p", "/html/body/div[2]/p[1]"),
        ("a", "li", "/html/body/div[2]/section[1]/ul[1]/li[1]"),
        ("b", "li", "/html/body/div[2]/section[1]/ul[1]/li[2]"),
    ]


def test_depth_counts_block_ancestors():
    blocks = blocks_of("<div><p>inner</p></div><p>outer</p>")
    assert [(b.text, b.depth) for b in blocks] == [("inner", 3), ("outer", 2)]


def test_skipped_siblings_still_count_in_xpath_positions():
    blocks = blocks_of("<p hidden>x</p><p>second p</p>")
    assert [(b.text, b.xpath) for b in blocks] == [("second p", "/html/body/p[2]")]


@pytest.mark.parametrize("path", SEED_PAGES[:3] + sorted(AUTHORED_PAGES.glob("*.html"))[:3],
                         ids=lambda p: p.name)  # fmt: skip
def test_every_xpath_points_at_an_element_of_the_blocks_tag(path):
    root = parse(path.read_bytes())
    blocks = segment(root)
    assert blocks
    for b in blocks:
        found = root.xpath(b.xpath)
        assert len(found) == 1, b.xpath
        assert found[0].tag == b.tag
        assert b.text.split()[0] in " ".join("".join(found[0].itertext()).split())


# ------------------------------------------------------------------------ tokens


def test_attr_tokens_split_camel_case_and_separators():
    el = lxml.html.fragment_fromstring(
        '<div class="postContent related-links  sidebar_widget a 42 x1" id="mainBody" '
        'role="complementary" itemprop="articleBody"></div>'
    )
    assert attr_tokens(el) == (
        "post", "content", "related", "links", "sidebar", "widget", "x1",
        "main", "body", "complementary", "article", "body",
    )  # fmt: skip
    assert attr_tokens(lxml.html.fragment_fromstring("<div></div>")) == ()


def test_own_parent_ancestor_and_inline_tokens():
    body = """
    <div id="pageWrap"><section class="relatedPosts"><ul class="post-list">
      <li class="item_row">One <span class="viewCount">12 views</span></li>
    </ul></section></div>
    """
    [b] = blocks_of(body)
    assert b.text == "One 12 views"
    assert b.own_tokens == ("item", "row")
    assert b.parent_tokens == ("post", "list")
    assert b.ancestor_tokens == frozenset({"page", "wrap", "related", "posts", "post", "list"})
    assert b.ancestor_tags == frozenset({"html", "body", "div", "section", "ul"})
    assert b.inline_tokens == ("view", "count")


# ------------------------------------------------------------------------ gold labels


def test_data_label_is_inherited_by_nested_blocks():
    body = """
    <p>unlabelled</p>
    <article data-label="content">
      <h1>headline</h1>
      <div><p>deep paragraph</p></div>
      <aside data-label="donation_appeal"><p>please give</p><ul><li>give 5</li></ul></aside>
      <p>after the aside</p>
    </article>
    <div data-label="related_links"><ul><li><a href="/r">related one</a></li></ul></div>
    <p>footer text</p>
    """
    got = [(b.text, b.gold) for b in blocks_of(body)]
    assert got == [
        ("unlabelled", None),
        ("headline", "content"),
        ("deep paragraph", "content"),
        ("please give", "donation_appeal"),
        ("give 5", "donation_appeal"),
        ("after the aside", "content"),
        ("related one", "related_links"),
        ("footer text", None),
    ]


def test_gold_is_not_a_token():
    [b] = blocks_of('<div data-label="donation_appeal"><p>x y</p></div>')
    assert b.gold == "donation_appeal"
    tokens = set(b.own_tokens) | set(b.parent_tokens) | set(b.ancestor_tokens)
    assert not tokens & {"donation", "appeal"}


# ------------------------------------------------------------------------ deep pages


@pytest.mark.parametrize("tag", ["div", "span"])
def test_deeply_nested_page_does_not_crash(tag):
    n = 3000
    html = f"<html><body><p>before</p>{f'<{tag}>' * n}deep text{f'</{tag}>' * n}</body></html>"
    blocks = segment(parse(html))
    assert blocks[0].text == "before"
    for b in blocks:
        assert b.text.count("deep text") <= 1


def test_text_inside_and_after_deep_nesting_is_kept():
    n = 300
    html = f"<html><body><p>before</p>{'<div>' * n}deep text{'</div>' * n}<p>after</p></body>"
    assert [b.text for b in segment(parse(html))] == ["before", "deep text", "after"]


def test_text_below_the_flattening_depth_is_not_duplicated():
    n = 450  # beyond the segmenter's _MAX_DEPTH (400), where it flattens the subtree
    html = f"<html><body>{'<div>' * n}deep text{'</div>' * n}<p>after</p></body></html>"
    assert [b.text for b in segment(parse(html))] == ["deep text", "after"]


def test_deep_inline_nesting_in_a_tree_built_elsewhere():
    parser = lxml.html.HTMLParser(huge_tree=True)
    n = 1500
    root = lxml.html.document_fromstring(
        f"<html><body><p>{'<span>' * n}deep text{'</span>' * n}</p></body></html>", parser=parser
    )
    assert [b.text for b in segment(root)] == ["deep text"]


# ------------------------------------------------------------------------ title


@pytest.mark.parametrize(
    ("head", "body", "title"),
    [
        ('<meta property="og:title" content="OG title"><title>Tag title</title>', "<h1>H</h1>",
         "OG title"),
        ("<title>  Tag\n title </title>", "<h1>H</h1>", "Tag title"),
        ("", "<h1>Only <em>heading</em></h1>", "Only heading"),
        ("", "<p>no title at all</p>", ""),
    ],
)  # fmt: skip
def test_page_title(head, body, title):
    assert page_title(parse(f"<html><head>{head}</head><body>{body}</body></html>")) == title


def test_pre_keeps_its_lines_and_indentation():
    html = (
        "<body><p>Run   this\nsnippet:</p><pre>\n    def area(r):\n        return 3.14 * r * r"
        "\n\n    print(area(2))\n</pre><pre><code>a\n  b</code></pre></body>"
    )
    blocks = segment(parse(html))
    assert [b.tag for b in blocks] == ["p", "pre", "pre"]
    assert blocks[0].text == "Run this snippet:"  # elsewhere whitespace is collapsed
    assert blocks[1].text == "def area(r):\n    return 3.14 * r * r\n\nprint(area(2))"
    assert blocks[2].text == "a\n  b"
