# Every target bootstraps .venv itself, so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CONTENT ?= content

.PHONY: all venv site check test lint unit golden bench fuzz screenshot clean

all: check test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

site: $(STAMP)
	$(BIN)/dossier build $(CONTENT) --out site

check: $(STAMP)
	$(BIN)/dossier check $(CONTENT)

lint: $(STAMP)
	$(BIN)/ruff check dossier tests bench docs
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint unit

# Rewrite the golden pages in tests/golden/ from the fixture dossier; review the diff.
golden: $(STAMP)
	DOSSIER_UPDATE_GOLDEN=1 $(BIN)/pytest tests/test_golden.py

# dossier against Hugo on synthetic dossiers of 1,000 and 10,000 cards; prints a table.
bench: $(STAMP)
	$(BIN)/python bench/run.py

# A longer fuzz run than CI's (5,000 examples a property, a few minutes).
fuzz: $(STAMP)
	DOSSIER_FUZZ_EXAMPLES=5000 $(BIN)/pytest tests/test_hardening.py -k fuzz -p no:cacheprovider

# The README's screenshot of the briefing (Playwright with Debian's chromium).
screenshot: $(STAMP)
	$(BIN)/python docs/screenshot.py

clean:
	rm -rf $(VENV) site .site.spare .pytest_cache .mypy_cache .ruff_cache .hypothesis
