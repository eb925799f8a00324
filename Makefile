# One task menu. `make run` and `make test` work on a fresh clone: each builds .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test bench template lint clean-data

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m store init
	$(VENV)/bin/streamlit run dashboard.py --server.port $(PORT)

test: $(VENV)/.installed
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m bench

template: $(VENV)/.installed
	$(PY) -m loaders template -o data/blank_return.xlsx

lint: $(VENV)/.installed
	$(PY) -m compileall -q dashboard.py pages loaders store settings.py

clean-data:
	rm -rf data
