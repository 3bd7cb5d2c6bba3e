"""The book builds with warnings as errors, works offline, and renders in a real browser."""

import re
import sys
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


def test_the_build_executed_each_chapter_once_before_reading_it(built_book):
    """book/_ext/nb_parallel.py executed the chapters the cache lacked, several at a time, and cached them so
    that myst-nb found every chapter in the cache and executed none itself (a cache key that did not match
    would show here as a second, serial execution)."""
    log = (built_book.parent / "book-build.log").read_text()
    again = re.findall(r"(\S+\.md): Executed notebook in", log)
    failed = re.findall(r"tensorbook: (\S+) failed in the parallel pass .*", log)
    assert not again, f"myst-nb executed {again} itself, after the parallel pass; the pass said: {failed}"
    for page in chapter_pages():
        assert re.search(rf"{re.escape(page[:-5])}\.md: Using cached notebook", log), page


def test_each_kernel_gets_its_share_of_the_cores_unless_the_environment_says(monkeypatch):
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import nb_parallel

    for name in nb_parallel.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert all(nb_parallel.kernel_environment(workers=2, cores=8)[n] == "4" for n in nb_parallel.THREAD_VARIABLES)
    assert nb_parallel.kernel_environment(workers=3, cores=2)["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert nb_parallel.kernel_environment(workers=2, cores=8)["OMP_NUM_THREADS"] == "3"


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


def _explorers_in(page):
    """How many explorers the chapter of ``page`` displays (calls of a ``*_explorer(`` in its code)."""
    source = (ROOT / page.replace(".html", ".md")).read_text()
    return len(re.findall(r"^(?:tb\.widgets\.)?\w+_explorer\(", source, re.M))


def _checked_in(page):
    """How many exercise answers the chapter of ``page`` checks (distinct ids such as "5.2" and "5.2b")."""
    source = (ROOT / page.replace(".html", ".md")).read_text()
    return len(set(re.findall(r'tb\.exercise\("([0-9]+\.[0-9]+[a-z]?)"\)', source)))


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
        # explorers: the static versions (the live ipywidgets need a kernel), one per explorer of the chapter
        tab.locator('.tb-explorer[data-ready="1"]').first.wait_for(timeout=20_000)
        assert tab.locator('.tb-explorer[data-ready="1"]').count() == _explorers_in(page)
        # exercises: each has a gated solution drop-down whose checks said "correct" (an exercise may have parts)
        n_exercises = tab.locator(".exercise").count()
        assert n_exercises >= 3
        assert tab.locator("details.solution, .solution.dropdown").count() == n_exercises
        assert tab.locator(".tensorbook-feedback", has_text=re.compile(r": Correct\b")).count() == _checked_in(page)
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


# --- the explorers work without a kernel (issue 13) -------------------------------------------

_PAYLOADS = """els => els.map(el => JSON.parse(el.querySelector('script.tb-explorer-states').textContent))"""


_SAME_HTML = """(el, html) => { const t = document.createElement('template'); t.innerHTML = html;
                                  return t.innerHTML === el.querySelector('.tb-explorer-text').innerHTML; }"""


def _move(tab, explorer, control, index):
    """Set one control of the static explorer to grid position ``index`` (as a reader would) and return the
    state key it then shows and the redraw time the page measured."""
    target = explorer.locator(f'[data-control="{control["name"]}"]')
    before = int(explorer.get_attribute("data-redraws"))
    if control["kind"] == "select":
        target.select_option(str(index))
    else:
        target.evaluate("(el, i) => { el.value = String(i); el.dispatchEvent(new Event('input', {bubbles: true})); }",
                        index)
    tab.wait_for_function("([el, old]) => Number(el.getAttribute('data-redraws')) > old",
                          arg=[explorer.element_handle(), before], timeout=10_000)
    explorer.evaluate("el => new Promise(r => requestAnimationFrame(() => r()))")
    return explorer.get_attribute("data-state"), float(explorer.get_attribute("data-redraw-ms"))


def _positions(n):
    """At least three grid positions of a control with n values (all of them when fewer)."""
    return sorted({0, n // 2, n - 1} | ({1} if n > 3 else set())) if n >= 3 else list(range(n))


@pytest.mark.parametrize("page", chapter_pages())
def test_every_explorer_redraws_for_every_control_without_a_kernel(page, browser, book_server):
    """Each control of each static explorer moved through at least three states (and a dropdown with a slider
    after it, in combination): the caption names the state asked for, the figure is the state's own, the
    redraw takes at most 100 ms, with no page error and no request to another host."""
    tab, context, errors, foreign = _open_offline(browser, f"{book_server}/{page}")
    explorers = tab.locator('.tb-explorer[data-ready="1"]')
    explorers.first.wait_for(timeout=20_000)
    payloads = explorers.evaluate_all(_PAYLOADS)
    assert len(payloads) == _explorers_in(page)
    redraws = []
    for n, payload in enumerate(payloads):
        explorer = explorers.nth(n)
        controls = payload["controls"]
        assert len(payload["states"]) >= 3, f"{page}: explorer {n} has {len(payload['states'])} states"
        index = [int(i) for i in payload["initial"].split(",")]
        seen = {explorer.get_attribute("data-state")}
        images = {explorer.locator(".tb-explorer-figure").get_attribute("src")}
        for j, control in enumerate(controls):
            grid = control["grids"][",".join(map(str, index[:j]))]
            for position in _positions(len(grid)):
                key, ms = _move(tab, explorer, control, position)
                index = [int(i) for i in key.split(",")]
                assert index[j] == position, f"{page}: {control['description']} did not move to {position}"
                state = payload["states"][key]
                assert explorer.locator(".tb-explorer-caption").inner_text() == state["caption"]
                if "img" in state:
                    assert explorer.locator(".tb-explorer-figure").get_attribute("src") == state["img"]
                    images.add(state["img"])
                if "text" in state:  # compared as the browser parses both (it writes "->" back as "-&gt;")
                    assert explorer.evaluate(_SAME_HTML, state["text"]), f"{page}: the text of {key}"
                shown = explorer.locator(f'[data-control="{control["name"]}"]')
                if control["kind"] == "range":  # the readout names the value
                    assert shown.locator("xpath=following-sibling::output").inner_text() == grid[position]
                seen.add(key)
                redraws.append(ms)
        assert len(seen) >= 3 and len(images) >= min(3, len(payload["states"])), f"{page}: explorer {n}"
    context.close()
    _assert_clean(page, errors, foreign)
    assert max(redraws) <= 100, f"{page}: slowest redraw {max(redraws):.1f} ms (budget 100 ms)"
    print(f"{page}: {len(redraws)} redraws, median {sorted(redraws)[len(redraws) // 2]:.1f} ms, "
          f"max {max(redraws):.1f} ms")


def test_each_chapter_page_weighs_at_most_8_mb_with_its_explorers(built_book):
    """A page's own files: the HTML (the states are embedded in it) and the images only it uses, not _static/."""
    for page in chapter_pages():
        html_path = built_book / page
        html = html_path.read_text(encoding="utf-8")
        own = html_path.stat().st_size
        for src in set(re.findall(r'<img[^>]+src="(?!data:)([^"]+)"', html)):
            target = (html_path.parent / src).resolve()
            if "_static" not in target.parts and target.exists():
                own += target.stat().st_size
        assert own <= 8_000_000, f"{page}: {own / 1e6:.1f} MB"


def test_pages_work_from_the_file_system(browser, built_book):
    """A reader double-clicking index.html: from file://, the maths, plotly and the explorers work too."""
    context = browser.new_context()
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.route(re.compile(r"^(?!file://).*"), lambda route: route.abort())
    tab.goto((built_book / "notebooks" / "03_low_rank.html").as_uri(), wait_until="load")
    tab.locator("article mjx-container svg").first.wait_for(timeout=20_000)
    tab.locator("div.plotly-graph-div .main-svg").first.wait_for(timeout=20_000)
    explorer = tab.locator('.tb-explorer[data-ready="1"]').first
    explorer.wait_for(timeout=20_000)
    payload = explorer.evaluate("el => JSON.parse(el.querySelector('script.tb-explorer-states').textContent)")
    control = payload["controls"][-1]
    key, ms = _move(tab, explorer, control, 0)
    assert explorer.locator(".tb-explorer-caption").inner_text() == payload["states"][key]["caption"]
    context.close()
    assert not errors, errors
