# One task menu. `make run` and `make test` work on a fresh clone: each builds .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test bench template lint clean-data browser migration

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: $(VENV)/.installed browser
	$(PY) -m store init
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# PDF board packs are printed by Chromium's headless shell (Debian's chromium-headless-shell, made
# for automation: it starts and prints markedly faster than the full browser, which works too).
# It is installed when missing and it can be (as root, or with sudo); otherwise one sentence says
# so and the build carries on.
browser:
	@command -v chromium-headless-shell >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo=sudo; else sudo=none; fi; \
	  if [ "$$sudo" != none ] && command -v apt-get >/dev/null 2>&1 && echo "Installing Chromium's headless shell for PDF board packs..." \
	     && $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null; \
	  then echo "Chromium's headless shell installed: board packs can be made as PDF."; \
	  elif command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; \
	  then echo "PDF board packs will be printed by the full Chromium browser; 'sudo apt-get install chromium-headless-shell' prints them faster."; \
	  else echo "PDF board packs need Chromium, which could not be installed here: run 'sudo apt-get install chromium-headless-shell' (HTML and Excel packs work without it)."; \
	  fi; }

# The browser tests check every page with axe-core, pinned in package-lock.json; installed again
# only when node_modules is missing or older than the lock. Without npm the check is skipped
# locally (with a sentence) and fails under CI.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm is missing, so the accessibility check will be skipped: install Node.js and npm to run it."; fi

# The tests run on TEST_WORKERS processes (pytest-xdist; one per CPU unless told). A test file's
# tests stay together on one worker (--dist loadgroup, each file its own group unless it names a
# shared one: tests/conftest.py), so a module that starts a Streamlit server or Chromium starts it
# once; the sample trust's database is imported once for the whole run.
TEST_WORKERS ?= auto
test: $(VENV)/.installed node_modules/.package-lock.json
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

# Every figure against its goal (bench/__main__.py says how each is measured); QUICK=1 runs a small
# version of each in about a minute, judging no goal. BENCH_DATABASE_URL=postgresql+psycopg://...
# measures PostgreSQL as well.
bench: $(VENV)/.installed
	$(PY) -m bench $(if $(QUICK),--quick)

template: $(VENV)/.installed
	$(PY) -m loaders template -o data/blank_return.xlsx

# A new schema revision from the difference between store/schema.py and a database at the newest
# revision: make migration MESSAGE="what changes". Read and finish the file it writes.
migration: $(VENV)/.installed
	@test -n "$(MESSAGE)" || { echo 'Say what the revision changes: make migration MESSAGE="..."'; exit 2; }
	@tmp=$$(mktemp -d) && $(PY) -c "import sys; from store.db import make_engine; from store.upgrades import upgrade, write_revision; \
	url = 'sqlite:///' + sys.argv[1] + '/head.db'; upgrade(make_engine(url)); print('Wrote', write_revision(sys.argv[2], url))" "$$tmp" "$(MESSAGE)"; \
	status=$$?; rm -rf "$$tmp"; exit $$status

# ruff (pinned in requirements.txt) over every package and top-level module, with the rules and
# the few justified exceptions in ruff.toml. `$(PY) -m ruff check --fix $(LINTED)` mends import
# order and unused imports.
LINTED := app.py dashboard.py settings.py loaders store analysis charts reports ui pages sample_data bench tests

lint: $(VENV)/.installed
	$(PY) -m ruff check --no-cache $(LINTED)

clean-data:
	rm -rf data
