"""environment.yml and pyproject.toml agree; `make` states missing prerequisites in one sentence."""

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert f"python{project['requires-python']}" in conda and "pip" in conda
    wanted = set(project["dependencies"])
    for extra in ("book", "test"):
        wanted |= set(project["optional-dependencies"][extra])
    listed = [p for p in pip if not p.startswith("-e")]
    assert len(listed) == len(set(listed)), "a package is listed twice in environment.yml"
    assert set(listed) == wanted
    assert "-e ." in pip, "environment.yml installs this repository"


def _fake_python(tmp_path, version):
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\ncase \"$1\" in -V) echo 'Python {version}';; *) exit 1;; esac\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _make(tmp_path, **variables):
    args = ["make", "-s", "venv", f"VENV={tmp_path / 'venv'}"] + [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_old_python_is_one_sentence(tmp_path):
    proc = _make(tmp_path, PYTHON=_fake_python(tmp_path, "3.9.18"))
    assert proc.returncode != 0
    assert proc.stdout.strip().splitlines() == [
        "tensorbook needs Python 3.11 or newer, but "
        f"'{tmp_path / 'python'}' is 3.9.18: run make PYTHON=/path/to/python3.11."
    ]


def test_missing_python_is_one_sentence(tmp_path):
    proc = _make(tmp_path, PYTHON=tmp_path / "nope")
    assert proc.returncode != 0
    assert len(proc.stdout.strip().splitlines()) == 1
    assert "needs Python 3.11 or newer" in proc.stdout and "was not found" in proc.stdout


@pytest.mark.slow
def test_no_network_is_one_sentence(tmp_path):
    # A package index that refuses connections, and no local wheel sources.
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
           "PIP_EXTRA_INDEX_URL": "", "PIP_FIND_LINKS": "", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2",
           "PIP_NO_CACHE_DIR": "1"}
    args = ["make", "-s", "venv", f"VENV={tmp_path / 'venv'}", f"PYTHON={sys.executable}"]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode != 0
    lines = [l for l in proc.stdout.strip().splitlines() if not l.startswith("Installing tensorbook")]
    assert len(lines) == 1 and lines[0].startswith("Could not download the dependencies"), proc.stdout
