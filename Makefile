# The two commands a newcomer types: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON_DIRS := peernudge service workers tests bench
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint format install clean train-understanding

$(BIN)/python:
	@echo "Creating the virtual environment in $(VENV)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Says what it is doing first: the quiet install takes a few minutes on a fresh clone.
$(STAMP): $(BIN)/python pyproject.toml
	@echo "Installing PeerNudge and its dependencies into $(VENV) (a few minutes the first time)..."
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Install into .venv and start web + worker + planner + embedded Redis + simulator.
run: $(STAMP)
	$(BIN)/peernudge dev

# The databases the whole suite runs on, one after the other (CI: "sqlite postgresql").
TEST_DATABASES ?= sqlite
# pytest processes per pass (pytest-xdist; each has its own Redis and PostgreSQL server).
# Many tests wait on real processes, so two share a 2-core machine well; 0 runs in one.
TEST_WORKERS ?= 2

## Install the test dependencies into .venv and run the whole suite.
test: $(STAMP)
	$(BIN)/ruff format --check $(PYTHON_DIRS)
	$(BIN)/ruff check $(PYTHON_DIRS)
	$(BIN)/lint-imports
	@for database in $(TEST_DATABASES); do \
	  echo "== the whole suite on $$database =="; \
	  PEERNUDGE_TEST_DATABASE=$$database $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal || exit 1; \
	done

format: $(STAMP)
	$(BIN)/ruff format $(PYTHON_DIRS)
	$(BIN)/ruff check --fix $(PYTHON_DIRS)

## Retrain the crisis backstop model on the corpus's dev part (after changing crisis.txt).
train-understanding: $(STAMP)
	$(BIN)/python -m service.understanding.train

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache
