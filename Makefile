# Every target sets itself up: a fresh machine needs only python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced

.PHONY: install demo test check lint format bench soak clean

$(BIN)/uv:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "uv==0.13.*"

$(STAMP): $(BIN)/uv pyproject.toml uv.lock
	$(BIN)/uv sync --frozen --quiet
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/coalition demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Tests run in parallel (pytest-xdist); more workers than cores, because the end-to-end
# tests spend most of their time waiting on servers and subprocesses.
TEST_WORKERS ?= 4

test: lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

# The inner loop: lint and the unit tests, under a minute.
check: lint
	$(BIN)/pytest -n 2 tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench.run

soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	# var/ledger.sqlite3 is the bot's memory on a one-machine install: never removed here.
	rm -rf $(VENV) var/bench var/soak var/prefect var/demo .pytest_cache .ruff_cache
