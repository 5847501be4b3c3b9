# MediaStudio. Two commands for a newcomer: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
RUN_DEBS := ffmpeg espeak-ng libespeak-ng1 fonts-dejavu-core fonts-noto-color-emoji
TEST_DEBS := $(RUN_DEBS) chromium chromium-driver

.PHONY: run test test-embedded system-deps system-deps-test bench clean

run: system-deps $(VENV)/.installed-run  ## install everything and start the studio on the embedded defaults
	$(BIN)/python -m mediastudio.runner --port $(PORT)

test: system-deps-test $(VENV)/.installed-test  ## install everything and run the whole suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-embedded: system-deps-test $(VENV)/.installed-test  ## the SQLite + bundled-Redis smoke part
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m pytest -m embedded $(PYTEST_ARGS)

bench: system-deps-test $(VENV)/.installed-test  ## the benchmarks in bench/, each printing ratios measured side by side
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_audio.py
	$(BIN)/python bench/bench_jobs_in_flight.py
	$(BIN)/python bench/bench_previews.py

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The gpu extra pins torch==2.13.0: on this project's machines pip takes the CPU build from the local wheel.
$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[dev,gpu]"
	touch $@ $(VENV)/.installed-run

system-deps:
	@PACKAGES="$(RUN_DEBS)" sh .ci/system-deps.sh

system-deps-test:
	@PACKAGES="$(TEST_DEBS)" sh .ci/system-deps.sh

clean:
	rm -rf $(VENV) var .pytest_cache
