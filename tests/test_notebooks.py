"""Every chapter executes top to bottom, exercise solutions included, and every solution is right.

The chapters run once per test session, in the book build (``built_book``,
which executes them with nbclient as ``make book`` does, a wrong solution
being an error there); these tests read what it executed and cached. The race that used
to stall those executions is forced below, with a client of its own.
"""

import re
import sys
import time
from pathlib import Path

import jupytext
import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import nbclient_shell  # noqa: E402  (book/_ext: nbclient's Output-widget mimic without the shell-socket stall)


def notebook_client(nb, timeout, **kwargs):
    """A NotebookClient whose Output-widget mimic cannot swallow the shell socket's wake-up (nbclient#312)."""
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", **kwargs)
    client.widget_registry["@jupyter-widgets/output"]["OutputModel"] = nbclient_shell.OutputWidget
    return client


def executed_notebook(cache_path, path):
    """The executed notebook that the build cached for the current source of ``path``, read from jupyter-cache
    as myst-nb reads it (the build's own ``jupyter_execute/`` copy holds no outputs when the page came from the
    cache, and book/_ext/nb_parallel.py fills the cache before Sphinx reads the pages)."""
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_path))
    try:
        record = cache.get_cached_project_nb(str(path.resolve()))
    except KeyError:
        record = None
    assert record is not None, f"the build cached no execution of the current {path.name}"
    return cache.get_cache_bundle(record.pk).nb


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_solutions_are_correct(path, built_book):
    """The chapter as the book build executed it (with nbclient, exercises strict, errors fatal): every code cell
    of the current source ran, and each exercise ran once unanswered and once with its solution, which was right.
    The build executes every chapter once for the whole suite, with the stall-free Output-widget stand-in."""
    executed = executed_notebook(built_book.parent / ".jupyter_cache", path)
    source = [c.source for c in jupytext.read(path).cells if c.cell_type == "code"]
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert [c.source for c in code] == source, f"the cached execution is not that of the current {path.name}"
    assert all(c.execution_count is not None for c in code), "every code cell ran, top to bottom"
    assert [c.execution_count for c in code] == sorted(c.execution_count for c in code)

    text = path.read_text()
    exercises = re.findall(r"^```\{exercise\}", text, re.M)
    checked = sorted(set(re.findall(r'tb\.exercise\("([0-9]+\.[0-9]+[a-z]?)"\)', text)))  # an exercise may have parts
    verdicts = []
    for cell in code:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            verdicts += re.findall(r'class="tensorbook-feedback".*?</div>', html, re.S)
    correct = [v for v in verdicts if "&#10004;" in v]
    unanswered = [v for v in verdicts if "not answered yet" in v]
    assert len(exercises) >= 3, "every chapter has at least 3 exercises"
    assert len(checked) >= len(exercises), "every exercise is checked"
    assert len(correct) == len(checked), f"{len(correct)} correct answers for the {len(checked)} checked {checked}"
    assert len(unanswered) == len(checked), "each exercise has a reader cell that runs unanswered"
    assert len(verdicts) == len(correct) + len(unanswered)


@pytest.mark.slow
def test_an_output_widget_message_sent_after_the_reply_arrived_does_not_stall_the_cell(monkeypatch):
    """The race behind the 600-s stalls, made certain: the mimic's comm_msg leaves 0.5 s late, when the
    kernel's execute_reply already waits in the shell socket. With nbclient's own mimic the cell then
    waits for its whole timeout; with the fixed one it goes on at once."""
    send = nbclient_shell.OutputWidget._publish_msg

    def late(self, *args, **kwargs):
        time.sleep(0.5)
        return send(self, *args, **kwargs)

    monkeypatch.setattr(nbclient_shell.OutputWidget, "_publish_msg", late)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import ipywidgets\nout = ipywidgets.Output()\ndisplay(out)\n"
                                          "with out:\n    print('captured')"),
                nbformat.v4.new_code_cell("1 + 1")]
    client = notebook_client(nb, timeout=60)
    start = time.monotonic()
    client.execute()
    assert time.monotonic() - start < 30, "the cell waited for its timeout: the shell socket's wake-up was lost"
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "2"
    captured = [o for state in client.widget_state.values() for o in state.get("outputs", [])]
    assert any("captured" in o.get("text", "") for o in captured), "the Output widget captured the print"
