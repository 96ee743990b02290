# Two commands matter: `make demo` runs the bot, `make test` runs every test.
# Each creates the virtual environment and installs what it needs on first use.

PYTHON ?= python3
# The demo's port: `make demo PORT=8800` when 8765 is taken (an environment PORT is ignored).
PORT = 8765
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck layers install run bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/inspectbot demo --port $(PORT)

run: $(STAMP)
	$(BIN)/inspectbot run

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The import contracts in pyproject.toml: layers, features, the sandbox, Telegram.
layers: $(STAMP)
	$(BIN)/lint-imports

# The whole suite on SQLite; when TEST_DATABASE_URL names a PostgreSQL database, the
# database-facing tests run again against it (CI sets it up in .ci/run), beside the
# SQLite run: the suite mostly waits (on sandboxes, timers, subprocesses), so the two
# passes share the machine well. The PostgreSQL pass's output follows the SQLite one's.
test: $(STAMP) lint typecheck layers
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
		echo "== tests on SQLite =="; \
		$(BIN)/pytest -q; \
	else \
		pg_log=$$(mktemp); \
		echo "== tests on SQLite, and the database-facing tests on PostgreSQL beside them =="; \
		$(BIN)/pytest -q -p no:cacheprovider -m "not browser" \
			tests/db tests/handlers tests/e2e > "$$pg_log" 2>&1 & pg=$$!; \
		env -u TEST_DATABASE_URL $(BIN)/pytest -q; sqlite=$$?; \
		wait $$pg; postgres=$$?; \
		echo "== database-facing tests on PostgreSQL =="; cat "$$pg_log"; rm -f "$$pg_log"; \
		echo "SQLite: exit $$sqlite; PostgreSQL: exit $$postgres"; \
		[ $$sqlite -eq 0 ] && [ $$postgres -eq 0 ]; \
	fi

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
