"""The book builds with warnings as errors, works offline, and renders in a real browser."""

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]



def chapter_pages():
    """Every notebook page of the table of contents, as its built HTML path."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f + ".html" for f in files if f.startswith("notebooks/")]


def all_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f + ".html" for f in files]


def test_every_page_built(built_book):
    for page in all_pages():
        assert (built_book / page).exists(), page
    assert (built_book / "index.html").exists()


def test_no_page_references_another_host_for_resources(built_book):
    """Scripts, styles and images come from the book itself (links to read on are fine)."""
    pattern = re.compile(r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)=[\"']?(https?:)?//", re.I)
    for page in built_book.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for m in pattern.finditer(html):
            tag = html[m.start(): html.find(">", m.start()) + 1]
            if tag.lower().startswith("<link") and re.search(r'rel="(?!stylesheet|preload|modulepreload|icon)', tag):
                continue  # a hyperlink-like <link> (e.g. rel="next"), not a resource
            pytest.fail(f"{page.relative_to(built_book)} loads a resource from another host: {tag}")


def test_chapter_embeds_widget_state_and_local_scripts(built_book):
    for page in chapter_pages():
        html = (built_book / page).read_text(encoding="utf-8")
        assert 'type="application/vnd.jupyter.widget-state+json"' in html, page
        assert "_static/offline/@jupyter-widgets/html-manager/dist/embed-amd.js" in html, page
        assert "_static/plotly/plotly.min.js" in html, page
        assert html.index("plotly.min.js") < html.index("require.js"), "plotly.js must load before require.js"


def _open_offline(browser, url):
    """Open ``url`` with every other host refused; return (tab, context, errors, foreign)."""
    context = browser.new_context()
    tab = context.new_page()
    errors, foreign = [], []
    tab.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    tab.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_request(request):
        url = urlparse(request.url)
        if url.scheme not in ("data", "blob", "about") and url.hostname != "127.0.0.1":
            foreign.append(request.url)

    tab.on("request", on_request)
    # Anything that is not the local server is refused, so an attempt cannot hang the test.
    tab.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), lambda route: route.abort())
    tab.goto(url, wait_until="load")
    return tab, context, errors, foreign


def _assert_clean(page, errors, foreign):
    assert not errors, f"console errors on {page}: {errors}"
    assert not foreign, f"{page} requested other hosts: {foreign}"


@pytest.mark.parametrize("page", all_pages())
def test_page_renders_offline_in_chromium(page, browser, book_server):
    tab, context, errors, foreign = _open_offline(browser, f"{book_server}/{page}")
    # MathJax typeset the maths, with no TeX errors (every page but the references has maths)
    if page != "book/references.html":
        tab.locator("article mjx-container svg").first.wait_for(timeout=20_000)  # the sidebars may hide headings with maths
    assert tab.locator("mjx-merror").count() == 0

    if page in chapter_pages():
        # plotly: every figure drawn as SVG by plotly.js
        figures = tab.locator("div.plotly-graph-div")
        assert figures.count() >= 1
        for i in range(figures.count()):
            figures.nth(i).locator(".main-svg").first.wait_for(timeout=20_000)
        # ipywidgets: drawn by the locally served HTML manager, with their embedded outputs
        tab.locator(".widget-dropdown").first.wait_for(timeout=20_000)
        tab.locator(".widget-slider").first.wait_for(timeout=20_000)
        assert tab.locator(".widget-output img").count() >= 1
        # exercises: each has a gated solution drop-down whose check said "correct"
        n_exercises = tab.locator(".exercise").count()
        assert n_exercises >= 3
        assert tab.locator("details.solution, .solution.dropdown").count() == n_exercises
        assert tab.locator(".tensorbook-feedback", has_text="Correct.").count() == n_exercises
    tab.wait_for_timeout(500)
    context.close()
    _assert_clean(page, errors, foreign)


def test_one_bibliography_lists_every_work_and_citations_link_to_it(built_book):
    """One References page lists every entry of references.bib; chapters cite where they use a work."""
    keys = re.findall(r"^@\w+\{(\w+),", (ROOT / "book" / "references.bib").read_text(), re.M)
    refs = (built_book / "book" / "references.html").read_text(encoding="utf-8")
    assert refs.count('<div class="citation"') == len(keys)
    for surname in ("Kolda", "Anandkumar", "Huang", "Oseledets", "Yu", "Blei"):
        assert surname in refs, surname
    cited = {}
    for page in all_pages():
        html = (built_book / page).read_text(encoding="utf-8")
        cited[page] = set(re.findall(r'href="[^"]*references\.html#([^"]+)"', html))
    assert cited["notebooks/02_tensor_operations.html"], "chapter 2 cites Kolda & Bader"
    assert cited["notebooks/05_topic_models.html"], "chapter 5 cites Blei et al. and Anandkumar et al."
    anchors = set(re.findall(r'id="([^"]+)"', refs))
    for page, targets in cited.items():
        assert targets <= anchors, f"{page} cites anchors missing from the references page: {targets - anchors}"


def test_search_works_offline(browser, book_server):
    tab, context, errors, foreign = _open_offline(browser, f"{book_server}/search.html?q=unfolding")
    results = tab.locator("#search-results li a, ul.search li a")
    results.first.wait_for(timeout=20_000)
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any("notation" in h for h in hrefs), hrefs
    context.close()
    _assert_clean("search.html", errors, foreign)


def test_no_page_carries_thebe(built_book):
    """The book has no thebe (launch_buttons.thebe: false), so no page loads its scripts or declares its URL."""
    for page in all_pages() + ["search.html", "genindex.html"]:
        html = (built_book / page).read_text(encoding="utf-8")
        assert "THEBE_JS_URL" not in html and "sphinx-thebe" not in html, page
