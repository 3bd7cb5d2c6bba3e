"""`make lab`: JupyterLab on 127.0.0.1 with a token; a double-click opens a chapter as a notebook
whose widgets respond."""

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "01_vectors_matrices_tensors.md"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    port, token = _free_port(), secrets.token_hex(16)
    args = f"--no-browser --ServerApp.port={port} --IdentityProvider.token={token} --LabApp.expose_app_in_browser=True"
    log = tmp_path_factory.mktemp("lab") / "lab.log"
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"make lab exited: {log.read_text()[-3000:]}")
            time.sleep(0.5)
    else:
        pytest.fail("JupyterLab did not start within 120 s")
    yield base, token
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)


def _get(base, token, path):
    with urllib.request.urlopen(f"{base}{path}?token={token}" if "?" not in path else f"{base}{path}&token={token}") as r:
        return json.loads(r.read())


def test_token_is_required_and_bound_to_loopback(lab):
    base, token = lab
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{base}/api/contents")
    assert err.value.code == 403
    assert _get(base, token, "/api/status")["started"]


def test_chapter_default_viewer_is_the_notebook(lab):
    base, token = lab
    settings = _get(base, token, "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    viewers = settings["schema"]["properties"]["defaultViewers"]["default"]  # overrides.json lands here
    assert viewers["markdown"] == "Jupytext Notebook" and viewers["myst"] == "Jupytext Notebook"
    model = _get(base, token, f"/api/contents/{CHAPTER}?type=notebook&content=1")
    assert model["type"] == "notebook" and len(model["content"]["cells"]) > 20


def test_double_click_opens_chapter_and_widget_responds(browser, lab):
    base, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab?token={token}")
    item = page.locator(f'.jp-DirListing-item[title*="{CHAPTER}"], .jp-DirListing-item:has-text("{CHAPTER}")').first
    item.wait_for(timeout=60_000)
    item.dblclick()
    panel = page.locator(".jp-NotebookPanel").first
    panel.wait_for(timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=60_000)
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.ready")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    dropdown = panel.locator(".widget-dropdown select").first
    dropdown.wait_for(timeout=240_000)
    output = dropdown.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]").locator(".widget-output img").first
    output.wait_for(timeout=120_000)
    before = output.get_attribute("src")
    dropdown.select_option(index=1)           # slice the video along height instead of time
    page.wait_for_function(
        "([el, old]) => el.querySelector('.widget-output img') && el.querySelector('.widget-output img').src !== old",
        arg=[dropdown.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]").element_handle(), before],
        timeout=60_000,
    )
    page.close()
