"""book/_ext: the execution cache follows changes to the package, not only to the notebooks."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import tensorbook_sphinx  # noqa: E402


def test_source_hash_tracks_content_and_names(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("X = 1\n")
    h1 = tensorbook_sphinx.source_hash([pkg])
    assert tensorbook_sphinx.source_hash([pkg]) == h1
    (pkg / "a.py").write_text("X = 2\n")
    h2 = tensorbook_sphinx.source_hash([pkg])
    (pkg / "a.py").rename(pkg / "b.py")
    h3 = tensorbook_sphinx.source_hash([pkg])
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "stray.py").write_text("junk = 1\n")  # a watched suffix, but in __pycache__
    assert len({h1, h2, h3}) == 3 and tensorbook_sphinx.source_hash([pkg]) == h3
    # an upgraded library changes the key too
    assert tensorbook_sphinx.source_hash([pkg], packages=("numpy",)) != tensorbook_sphinx.source_hash([pkg], packages=("scipy",))
    with pytest.raises(FileNotFoundError, match="tensorbook_watch_paths entry"):
        tensorbook_sphinx.source_hash([tmp_path / "missing"])


@pytest.mark.slow
def test_changed_package_reexecutes_unchanged_notebook(tmp_path):
    src = tmp_path / "src"
    (src / "helper").mkdir(parents=True)
    (src / "helper" / "__init__.py").write_text("VALUE = 'first-value'\n")
    (src / "conf.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})
        extensions = ["myst_nb", "tensorbook_sphinx"]
        nb_execution_mode = "cache"
        tensorbook_watch_paths = ["helper"]
        exclude_patterns = ["_build", "helper"]
    """))
    (src / "index.md").write_text(textwrap.dedent("""
        ---
        jupytext:
          text_representation: {extension: .md, format_name: myst}
        kernelspec: {name: python3, display_name: Python 3}
        ---
        # Page
        ```{code-cell} ipython3
        import helper
        print("value is", helper.VALUE)
        ```
    """).lstrip())

    def build():
        out = tmp_path / "_build" / "html"
        proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(src), str(out)],
                              cwd=src, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return (out / "index.html").read_text()

    assert "value is first-value" in build()
    (src / "helper" / "__init__.py").write_text("VALUE = 'second-value'\n")
    html = build()
    assert "value is second-value" in html and "first-value" not in html
    assert "value is second-value" in build()  # and a rebuild with nothing changed keeps it
