# The project's jobs. `make serve` and `make test` each set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready-$(shell cksum < requirements.txt | cut -d' ' -f1)
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve test site outputs bench clean

serve: $(READY)    ## serve the site, both languages, on http://127.0.0.1:8000
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

# On every core. A page's blocks share one namespace, so each file stays on
# one worker (--dist loadfile), with its twin in the other language (conftest.py
# schedules them together); the site and browser checks share one build
# through a lock (tests/conftest.py).
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile

test: $(READY)     ## every page's blocks, the pipelines, translation parity, the strict build
	$(PYTEST)

site: $(READY)     ## the strict build in site/ (SITE_URL and REPO_URL say where it is hosted)
	$(BIN)/mkdocs build --strict

outputs: $(READY)  ## rewrite the pages' `#>` output lines from what the code prints
	$(BIN)/python -m pytest docs --update-outputs -q

bench: $(READY)    ## time the suite against `import torch`
	$(BIN)/python tests/bench.py

clean:
	rm -rf $(VENV) site

# (Re)create .venv whenever requirements.txt changes.
$(READY): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "error: Python 3.11 or newer is needed; set PYTHON=python3.X"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@
