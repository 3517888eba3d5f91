# Omni: `make install` sets up .venv and the default models; `make test` is what CI runs.
.PHONY: install install-test run test lint

VENV := .venv
BIN := $(VENV)/bin

install:
	./scripts/install.sh

install-test:
	./scripts/install.sh --test

run: install
	$(BIN)/omni serve

lint:
	$(BIN)/ruff check .
	$(BIN)/mypy

# pytest exits 5 when it collects no tests: that is a failure here, never a pass.
test: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	@$(BIN)/pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$rc
