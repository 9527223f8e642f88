# The two commands a newcomer needs: `make run` and `make test` (see README).
VENV   ?= .venv
PYTHON ?= python3
PORT   ?= 5000
DEMO_SUBJECTS ?= 2000
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Serve the portal with demo data on the embedded defaults (SQLite + tantivy index under var/).
run: $(STAMP)
	@# One base URL for everything run prints (plate scan URLs, the staff login) and for the server.
	export PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://127.0.0.1:$(PORT)}; \
	  $(BIN)/credit-portal bootstrap --subjects $(DEMO_SUBJECTS) && \
	  $(BIN)/credit-portal serve --port $(PORT)

## The whole test suite (CI runs exactly this through .ci/run).
test: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@# The public search and privacy-boundary tests once more on the Whoosh backend (city and county size).
	TEST_SEARCH_BACKEND=whoosh $(BIN)/python -m pytest $(PYTEST_ARGS) \
	  tests/integration/test_public_search.py tests/integration/test_privacy_boundary.py

## Provincial-scale figures (issue #7): BENCH_SIZE=S|M|L, dataset cached under bench/data/.
BENCH_SIZE ?= S
bench: $(STAMP)
	$(BIN)/python -m bench all --size $(BENCH_SIZE)

clean:
	rm -rf var/ .pytest_cache
