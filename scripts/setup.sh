#!/usr/bin/env bash
# One-command set-up of the course (run again at any time: every step is idempotent).
#   1. the Debian packages with Fashion-MNIST, bubblewrap (the grading sandbox), PostgreSQL (a
#      shared gradebook; the tests start a private server) and Chromium (the browser tests drive it
#      with Playwright) and Graphviz (keras.utils.plot_model's diagrams) when run as root on Debian;
#      otherwise says what to do
#   2. a Python 3.11 virtual environment in .venv with the pinned packages (pyproject.toml,
#      requirements.lock) and the helper package cvcourse, editable
#   3. a Jupyter kernel "Python 3 (CNN course)" for front-ends outside the venv, the nbgrader extensions,
#      JupyterLab's news plugin off (it would ask to go online)
#   4. a check that everything imports and which data sets are available offline
# Override the interpreter with PYTHON=/path/to/python3.11.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }

step "Debian packages: Fashion-MNIST (dataset-fashion-mnist), the grading sandbox (bubblewrap), PostgreSQL, Chromium, Graphviz"
missing=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || missing+=(dataset-fashion-mnist)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)  # the browser tests (tests/test_browser.py) drive it
command -v dot >/dev/null 2>&1 || missing+=(graphviz)  # keras.utils.plot_model's architecture diagrams
if [ ${#missing[@]} -eq 0 ]; then
    note "already installed: Fashion-MNIST in /usr/share/datasets/fashion-mnist, bwrap, PostgreSQL, Chromium, Graphviz"
elif command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    if ! { apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
           { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; }; }; then
        note "could not install ${missing[*]}: chapters using Fashion-MNIST will need \`make fetch\` on a"
        note "connected machine, instructors need bubblewrap to grade (\`python -m grader grade\`),"
        note "the PostgreSQL gradebook tests need postgresql and the browser tests chromium;"
        note "without graphviz the chapters print their architecture diagrams as text"
    else
        note "installed ${missing[*]}"
    fi
elif command -v apt-get >/dev/null 2>&1; then
    note "not root: run \`sudo apt-get install ${missing[*]}\`"
    note "(without the data package, \`make fetch\` downloads Fashion-MNIST into data/cache; bubblewrap is"
    note " only needed by instructors, to grade submissions in a sandbox; postgresql by the tests of a"
    note " shared gradebook; chromium by the browser tests; graphviz draws the architecture diagrams)"
else
    note "not Debian: run \`make fetch\` once with a network to cache Fashion-MNIST in data/cache;"
    note "instructors grade on Linux with bubblewrap installed, as root (see README, Instructors);"
    note "the shared-gradebook tests need PostgreSQL's server programs (initdb, postgres) installed;"
    note "the browser tests need Chromium at /usr/bin/chromium (or CHROMIUM=/path/to/chromium);"
    note "install Graphviz (macOS: brew install graphviz; conda: environment.yml has it) for the diagrams"
fi

step "Python 3.11 virtual environment in .venv"
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            PYTHON=$candidate
            break
        fi
    done
fi
if [ -z "$PYTHON" ]; then
    echo "error: Python 3.11 not found. Install it (Debian/Ubuntu: apt-get install python3.11 python3.11-venv;" >&2
    echo "       macOS: brew install python@3.11; or use conda: environment.yml), or set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    note "created .venv with $("$PYTHON" --version)"
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
note "installed the pinned packages and cvcourse"

step "Jupyter kernel and nbgrader extensions"
# The kernel every notebook names (grader/presentation.py: COURSE_KERNEL); `make lab` offers no other.
.venv/bin/python -m ipykernel install --user --name cnn-course --display-name "Python 3 (CNN course)" \
    --env TF_CPP_MIN_LOG_LEVEL 3 >/dev/null
note "kernel 'Python 3 (CNN course)' registered (JupyterLab and other Jupyter front-ends)"
if [ -f grader/nbgrader_config.py ]; then
    mkdir -p grader/exchange  # the course's nbgrader exchange (grader/paths.py): the Formgrader needs it
    note "nbgrader exchange: grader/exchange"
fi
for extension in formgrader assignment_list course_list validate_assignment; do
    .venv/bin/jupyter server extension enable --sys-prefix "nbgrader.server_extensions.$extension" >/dev/null 2>&1
done
note "nbgrader server extensions enabled (the JupyterLab extension ships with nbgrader)"
# JupyterLab's news plugin asks to fetch news from the internet: the course runs offline.
.venv/bin/jupyter labextension disable --level=sys_prefix "@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1
note "JupyterLab's news announcements off (offline); slides in JupyterLab: jupyterlab-rise"

if [ -f grader/web/package-lock.json ]; then
    step "reveal.js for the slide decks (grader/web, from the npm registry)"
    if [ grader/web/node_modules/.package-lock.json -nt grader/web/package-lock.json ]; then
        note "already installed (installed after grader/web/package-lock.json last changed)"
    elif command -v npm >/dev/null 2>&1 && npm ci --prefix grader/web --no-audit --no-fund --silent; then
        note "installed reveal.js, require.js and jQuery in grader/web/node_modules"
    else
        note "npm (Node.js) not found or failed: \`make slides\` and \`make html\` need it; install Node.js"
        note "(Debian: apt-get install npm), then run \`make setup\` again. Nothing else needs it."
    fi
fi

step "Check"
.venv/bin/python -c 'import cvcourse, tensorflow as tf, keras, nbgrader; print(f"    TensorFlow {tf.__version__}, Keras {keras.__version__}, nbgrader {nbgrader.__version__}")'
.venv/bin/cvcourse-fetch --status | sed 's/^/    /'
if [ -d tests ]; then
    printf '\nReady. Open the course with `make lab`; run the tests with `make test`.\n'
else
    printf '\nReady. Open the course with `make lab`.\n'
fi
