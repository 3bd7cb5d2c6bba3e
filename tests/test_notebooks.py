"""Every chapter executes top to bottom, exercise solutions included, and every solution is right."""

import re
from pathlib import Path

import jupytext
import nbclient
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_solutions_are_correct(path, monkeypatch):
    monkeypatch.setenv("TENSORBOOK_STRICT_EXERCISES", "1")  # a wrong solution raises
    nb = jupytext.read(path)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()

    exercises = re.findall(r"^```\{exercise\}", path.read_text(), re.M)
    verdicts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            verdicts += re.findall(r'class="tensorbook-feedback".*?</div>', html, re.S)
    correct = [v for v in verdicts if "&#10004;" in v]
    unanswered = [v for v in verdicts if "not answered yet" in v]
    assert len(exercises) >= 3, "every chapter has at least 3 exercises"
    assert len(correct) == len(exercises), f"{len(correct)} correct solutions for {len(exercises)} exercises"
    assert len(unanswered) == len(exercises), "each exercise has a reader cell that runs unanswered"
    assert len(verdicts) == len(correct) + len(unanswered)
