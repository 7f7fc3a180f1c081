# Thin shortcuts; each target is one call. `make help` lists them.
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

.PHONY: help setup test test-fast lint lab course html slides fetch bench bench-grading chapters backbone release grade

help:           ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

setup:          ## set everything up (venv, pinned packages, kernel, nbgrader, Debian data package)
	bash scripts/setup.sh

test:           ## every test: lint, unit tests, then the slow tiers that run and grade the notebooks
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-fast:      ## lint and the fast tier only (seconds): helper package, pins, no-leak checks
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow"

lint:           ## ruff on every Python file
	$(BIN)/ruff check .

lab:            ## open the course in JupyterLab
	$(BIN)/jupyter lab --notebook-dir=. --LabApp.default_url=/lab/tree/course \
	    --KernelSpecManager.allowed_kernelspecs=cnn-course

course:         ## regenerate the student notebooks in course/ from solutions/
	$(BIN)/python -m grader generate

html:           ## run every chapter offline and write site/: student and instructor pages, slides, an index
	$(BIN)/python -m grader html

slides:         ## run every chapter's instructor notebook offline and write site/slides/ (reveal.js decks)
	$(BIN)/python -m grader slides

chapters:       ## list chapters, exercises, points and time budgets
	$(BIN)/python -m grader chapters

fetch:          ## download and cache every optional data set for an offline classroom
	$(BIN)/cvcourse-fetch all

backbone:       ## retrain the course's pretrained CNN (data/backbone/, about 35 minutes on a 2-core CPU)
	$(BIN)/python scripts/train_backbone.py

bench:          ## time each chapter: solution run and autograding one submission (medians of 3)
	$(BIN)/python bench/bench_chapters.py

bench-grading:  ## grade 24 submissions with plain nbgrader, `grade` and `grade --scheduler local:1|2`: times, speed-ups
	$(BIN)/python bench/bench_grading.py

release:        ## release a chapter to students: make release CHAPTER=ch01_visual_cortex
	$(BIN)/python -m grader release $(CHAPTER)

grade:          ## grade a chapter's submissions in parallel, sandboxed (root): make grade CHAPTER=ch01_...
	$(BIN)/python -m grader grade $(CHAPTER)
