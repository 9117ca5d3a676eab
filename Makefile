# claimdesk developer tasks.  `make run` for the demo, `make test` is what CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.claimdesk-installed
DB     ?= $(CURDIR)/demo.sqlite3

.PHONY: venv compile run test test-postgres lint typecheck bench clean distclean

## venv: create .venv (if missing) and install the project with its dev extras
venv: $(STAMP)

# Re-installs only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

## run: seed a demo ledger on first use, then start the TUI (DB=path to override)
# Bytecode for our own modules: an editable install leaves them uncompiled, and with
# PYTHONDONTWRITEBYTECODE set (as on many servers) every `claimdesk` run compiled them again
# (0.40 s to start instead of 0.26 s). Only changed files are compiled.
compile: venv
	@$(BIN)/python -m compileall -q domain projections importers tui bench >/dev/null

run: compile
	@if [ ! -e "$(DB)" ]; then $(BIN)/claimdesk --db "$(DB)" demo; fi
	$(BIN)/claimdesk --db "$(DB)"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

typecheck: venv
	$(BIN)/mypy

## test: lint, import contracts, default suite (2 workers), then the slow suite
test: lint compile
	$(BIN)/pytest -q -n 2
	@status=0; $(BIN)/pytest -q -m slow || status=$$?; \
	if [ $$status -eq 5 ]; then echo "no slow tests collected"; status=0; fi; \
	exit $$status
	@if [ -n "$$CLAIMDESK_TEST_PG_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "PostgreSQL pass skipped: CLAIMDESK_TEST_PG_URL is not set (.ci/run sets it)"; fi

## test-postgres: domain, projection and importer tests again, each ledger in PostgreSQL
## (needs CLAIMDESK_TEST_PG_URL; .ci/run sets it)
test-postgres: venv
	CLAIMDESK_TEST_STORE=postgres $(BIN)/pytest -q -n 2 tests/domain tests/projections tests/importers

bench: compile
	$(BIN)/python -m bench

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis bench/out
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
