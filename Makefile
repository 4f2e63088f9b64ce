# Quick start: `make run` (SQLite, in-process tasks, demo data) and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint check bench worker beat clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found); set PY=..."; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "PRM is starting on http://127.0.0.1:8000  (sign in as pm@northwind.example / partner-demo-2026)"
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: $(STAMP)
	DEBUG=0 SECRET_KEY=$$($(BIN)/python -c 'import secrets;print(secrets.token_urlsafe(64))') \
	  ALLOWED_HOSTS=prm.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

bench: $(STAMP)
	$(BIN)/python bench/bench_matching.py

worker: $(STAMP)
	$(BIN)/celery -A prm worker -l info

beat: $(STAMP)
	$(BIN)/celery -A prm beat -l info

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
