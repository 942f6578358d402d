# The project's jobs. `make serve` and `make test` each set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready-$(shell cksum < requirements.txt | cut -d' ' -f1)
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve test versions site phone outputs bench clean

serve: $(READY)    ## serve the site, both languages, on http://127.0.0.1:8000
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

# On every core. A page's blocks share one namespace, so each file stays on
# one worker (--dist loadfile), with its twin in the other language; the site
# and browser tests share a worker and its build. conftest.py hands out these
# units longest first, by the durations of the last run.
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile

# The pages' outputs are written (make outputs) with this machine's best
# kernels on every core, and checked as another CPU computes them: PyTorch's
# plain kernels, one thread per process (README, "Outputs on any machine").
test: export ATEN_CPU_CAPABILITY := default
test: export OMP_NUM_THREADS := 1
test: $(READY)     ## every page's blocks, the pipelines, translation parity, the strict build
	$(PYTEST)

versions: export ATEN_CPU_CAPABILITY := default
versions: export OMP_NUM_THREADS := 1
versions: $(READY) ## every page's blocks under the other supported torch releases (tests/versions.py)
	$(BIN)/python tests/versions.py

site: $(READY)     ## the strict build in site/ (SITE_URL and REPO_URL say where it is hosted)
	$(BIN)/mkdocs build --strict

phone: site        ## Lighthouse's phone audit of every page (tests/phone.py; needs node, npm)
	$(BIN)/python tests/phone.py site

outputs: $(READY)  ## rewrite the pages' `#>` output lines from what the code prints
	$(BIN)/python -m pytest docs --update-outputs -q

bench: $(READY)    ## time the suite against `import torch`
	$(BIN)/python tests/bench.py

clean:
	rm -rf $(VENV) .venv-torch-* site

# (Re)create .venv whenever requirements.txt changes. pip installs uv (pinned
# in requirements.txt), and uv installs the rest: 30 s where pip takes 70 s
# here. uv does not read pip's configuration, so a wheel folder pip is told of
# (find-links, where this machine keeps its CPU torch) is passed on. Bytecode
# is compiled at install, as pip does, for processes that may not write it.
# Should uv fail, pip does the install.
UV_PIN = $(shell grep -m1 '^uv==' requirements.txt)
$(READY): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "error: Python 3.11 or newer is needed; set PYTHON=python3.X"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(UV_PIN)
	links=""; for link in $$($(BIN)/python -m pip config get global.find-links 2>/dev/null \
	  || echo "$$PIP_FIND_LINKS"); do links="$$links --find-links $$link"; done; \
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python $$links \
	  -r requirements.txt \
	|| { echo "uv could not install requirements.txt; pip installs it"; \
	     $(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt; }
	touch $@
