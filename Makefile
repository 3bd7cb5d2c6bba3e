# tensorbook: `make book`, `make test`, `make lab`. Each creates .venv on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOG    := $(VENV)/install.log
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
# JupyterLab refuses to run as root unless told so: tell it when we are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_ARGS ?=

.PHONY: help book test lab clean venv

help:
	@echo "make book   build the book (every notebook executed) into _build/html"
	@echo "make test   run every test: package, notebooks, book build, browser"
	@echo "make lab    open JupyterLab on the chapters (127.0.0.1, with a token)"
	@echo "make clean  remove the build output (keeps .venv)"

venv: $(STAMP)

# (Re)install when pyproject.toml changes. Prerequisites are checked first, so a
# missing one is one sentence, not a traceback from inside pip.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "tensorbook needs Python 3.11 or newer, and '$(PYTHON)' was not found: install it or run make PYTHON=/path/to/python3.11."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "tensorbook needs Python 3.11 or newer, but '$(PYTHON)' is $$($(PYTHON) -V 2>&1 | cut -d' ' -f2): run make PYTHON=/path/to/python3.11."; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "'$(PYTHON)' lacks the venv module (on Debian/Ubuntu: apt-get install python3-venv)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing tensorbook and its dependencies into $(VENV) (log: $(LOG)) ..."
	@( $(BIN)/python -m pip install --upgrade pip && $(BIN)/python -m pip install -e '.[book,test]' ) > $(LOG) 2>&1 || { \
	  if grep -qiE 'NewConnectionError|Temporary failure in name resolution|Name or service not known|Network is unreachable|ConnectTimeout|Max retries exceeded|No matching distribution found' $(LOG); then \
	    echo "Could not download the dependencies: the first install needs network access to the Python package index (details in $(LOG))."; \
	  else \
	    echo "Installing the dependencies failed (details in $(LOG)); its last line: $$(tail -n 1 $(LOG))"; \
	  fi; exit 1; }
	@# JupyterLab: double-clicking a MyST chapter opens it as a notebook (jupytext).
	@mkdir -p $(dir $(LAB_OVERRIDES))
	@printf '%s\n' '{' \
	  '  "@jupyterlab/docmanager-extension:plugin": {' \
	  '    "defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}' \
	  '  }' '}' > $(LAB_OVERRIDES)
	@touch $(STAMP)

book: $(STAMP)
	@$(BIN)/jupyter-book build --warningiserror --keep-going .
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

test: $(STAMP)
	@$(BIN)/python -m pytest

lab: $(STAMP)
	@$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

clean:
	rm -rf _build
