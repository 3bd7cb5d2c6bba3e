"""Sphinx glue for the tensorbook book (loaded by _config.yml as a local extension).

1. Plotly offline: copies ``plotly.min.js`` from the installed plotly package
   into the built site's ``_static/`` and loads it, before any other script,
   on the pages that contain a plotly figure. Figures are emitted as HTML by
   ``tensorbook.plotting`` (myst-nb ignores plotly's own JSON output).
2. Exercises: sets ``TENSORBOOK_STRICT_EXERCISES=1`` for the executing kernels,
   so a wrong solution fails the build instead of printing a red box.
3. Execution cache keyed on the package: jupyter-cache only notices changes to
   a notebook's own code cells. This extension hashes the source trees listed
   in ``tensorbook_watch_paths`` (default: the ``tensorbook`` package and this
   extension) and the versions of the key libraries; when the
   hash differs from the one the cache was filled with, it empties the cache and
   marks every document outdated, so every notebook is executed again.
4. Execution without stalls: nbclient's Output-widget mimic is replaced by the
   one of ``nbclient_shell`` (its comm messages could swallow the shell
   socket's wake-up and stall a cell for its whole timeout; nbclient#312).
5. Static explorers: sets ``TENSORBOOK_STATIC_EXPLORERS=1`` for the kernels, so
   each explorer also draws every state of its grid (``tensorbook.widgets``),
   and serves ``static/tensorbook-explorer.js``, which switches between them.
6. Parallel execution: the notebooks missing from the cache are executed
   several at a time before Sphinx reads them (``nb_parallel``).
7. No thebe: sphinx-thebe, which Jupyter Book always loads, is disconnected
   (launch_buttons.thebe is false): its inline script, emitted twice on a
   page, redeclared a const and logged an error in every page's console.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

PLOTLY_STATIC = "plotly/plotly.min.js"
HASH_FILE = "tensorbook-source.sha256"
WIDGET_FONT_DIR = "@jupyter-widgets/html-manager/dist"
WIDGET_MANAGER = f"{WIDGET_FONT_DIR}/embed-amd.js"
WIDGET_STATIC_DIR = f"book/_static/offline/{WIDGET_FONT_DIR}"
MATHJAX_SHIM = "_static/offline/mathjax2-hub-shim.js"  # a builder path: _JavaScript made here is not resolved
WATCHED_SUFFIXES = {".py", ".npz", ".npy", ".json", ".csv", ".txt"}


KEY_PACKAGES = ("numpy", "scipy", "numba", "tensorly", "matplotlib", "plotly", "ipywidgets", "pillow")


def source_hash(paths, packages=KEY_PACKAGES) -> str:
    """SHA-256 over the watched source files (names and bytes) and the installed
    versions of ``packages``, so an upgraded library re-executes the notebooks too."""
    from importlib import metadata

    digest = hashlib.sha256()
    for name in packages:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name}=={version}\0".encode())
    for root in sorted(Path(p) for p in paths):
        if not root.exists():
            raise FileNotFoundError(f"tensorbook_watch_paths entry {str(root)!r} does not exist")
        files = [root] if root.is_file() else sorted(
            f for f in root.rglob("*")
            if f.is_file() and f.suffix in WATCHED_SUFFIXES and "__pycache__" not in f.parts
        )
        for f in files:
            digest.update(str(f.relative_to(root.parent)).encode())
            digest.update(b"\0")
            digest.update(f.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def _cache_path(app: Sphinx) -> Path:
    configured = app.config.nb_execution_cache_path
    if configured:
        return Path(configured).resolve()
    return Path(app.outdir).parent.joinpath(".jupyter_cache").resolve()  # myst-nb's default


def _on_config_inited(app: Sphinx, config) -> None:
    os.environ["TENSORBOOK_STRICT_EXERCISES"] = "1"
    os.environ["TENSORBOOK_STATIC_EXPLORERS"] = "1"  # each explorer also draws its states for the static book
    watched = [Path(app.confdir, p) for p in config.tensorbook_watch_paths]
    app.tensorbook_source_hash = source_hash(watched)
    cache = _cache_path(app)
    stamp = cache / HASH_FILE
    if stamp.exists() and stamp.read_text().strip() == app.tensorbook_source_hash:
        return
    if cache.exists():
        logger.info("tensorbook: package source changed; emptying the execution cache %s", cache)
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(app.tensorbook_source_hash + "\n")


def _on_env_get_outdated(app: Sphinx, env, added, changed, removed):
    if getattr(env, "tensorbook_source_hash", None) == app.tensorbook_source_hash:
        return []
    env.tensorbook_source_hash = app.tensorbook_source_hash
    stale = sorted(env.found_docs - set(added) - set(changed))
    if stale:
        logger.info("tensorbook: package source changed; re-reading %d documents", len(stale))
    return stale


def _on_builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))  # the explorers' script and style
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    target = Path(app.outdir) / "_static" / PLOTLY_STATIC
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)


def _on_html_page_context(app: Sphinx, pagename, templatename, context, doctree) -> None:
    body = context.get("body", "")
    if "plotly-graph-div" in body:
        # Before require.js (priority 500): plotly's UMD wrapper must see no AMD loader.
        app.add_js_file(PLOTLY_STATIC, priority=100)
    scripts = context.get("script_files", [])
    for n, js in enumerate(scripts):
        if str(js.filename).endswith(WIDGET_MANAGER):
            # ipywidgets calls MathJax 2's Hub API; the book runs MathJax 3.
            scripts.insert(n, type(js)(MATHJAX_SHIM, priority=js.priority))
            _copy_widget_fonts(app, pagename)
            break


def _copy_widget_fonts(app: Sphinx, pagename: str) -> None:
    """The widget manager loads its icon fonts from @jupyter-widgets/html-manager/dist/
    relative to the page (require.js's default base URL), so put them there."""
    source = Path(app.srcdir, WIDGET_STATIC_DIR)
    target = Path(app.outdir, pagename).parent / WIDGET_FONT_DIR
    target.mkdir(parents=True, exist_ok=True)
    for font in source.glob("*.woff*"):
        if not (target / font.name).exists():
            shutil.copyfile(font, target / font.name)


def _disconnect_thebe(app: Sphinx) -> None:
    """Remove sphinx-thebe from the build: the book has no thebe (launch_buttons.thebe: false).

    Its event handlers go (they add its inline script, its JavaScript and its
    static folder), and so does the stylesheet its setup registered, which
    would otherwise be linked from every page without being copied.
    """
    for listeners in app.events.listeners.values():
        listeners[:] = [entry for entry in listeners
                        if not getattr(entry.handler, "__module__", "").startswith("sphinx_thebe")]
    app.registry.css_files[:] = [(name, attrs) for name, attrs in app.registry.css_files
                                 if "sphinx-thebe" not in str(name)]


def _on_env_before_read_docs(app: Sphinx, env, docnames) -> None:
    import nb_parallel

    nb_parallel.execute_missing(app, env, docnames)


def setup(app: Sphinx):
    import nbclient_shell

    nbclient_shell.install()
    _disconnect_thebe(app)
    app.add_config_value("tensorbook_watch_paths", ["tensorbook", "book/_ext"], "env")
    app.connect("config-inited", _on_config_inited)
    # 0: as many kernels at once as there are cores, at most 4 (book/_ext/nb_parallel.py)
    app.add_config_value("tensorbook_execution_workers", 0, "env")
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.connect("env-before-read-docs", _on_env_before_read_docs)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("html-page-context", _on_html_page_context, priority=600)
    app.add_js_file("tensorbook-explorer.js", loading_method="defer")
    app.add_css_file("tensorbook-explorer.css")
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
