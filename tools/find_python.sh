#!/usr/bin/env bash
# Sourced by tools/setup_env.sh and tools/setup_compat_env.sh. find_python prints the Python to
# build a venv on; ensure_venv DIR LOG creates the venv at DIR with it unless it exists. The
# version is $REPVIT_PYTHON_VERSION, default the board's Python (3.10; the Jazzy environment asks
# for Ubuntu 24.04's 3.12): pyenv's (its `pythonX.Y` shim fails unless pyenv selects it, so the
# interpreter is taken from pyenv's versions folder), then a pythonX.Y on PATH, then any python3
# at least that new.
find_python() {
  local want="${REPVIT_PYTHON_VERSION:-3.10}" cand
  if command -v pyenv >/dev/null 2>&1; then
    for cand in "$(pyenv root)"/versions/"$want".*/bin/python"$want"; do
      [ -x "$cand" ] && { echo "$cand"; return; }
    done
  fi
  for cand in "/usr/bin/python$want" "python$want" python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$want'.split('.'))))" \
         2>/dev/null; then
      command -v "$cand"; return
    fi
  done
  echo "no Python >= $want found (install python$want)" >&2
  exit 1
}

ensure_venv() {
  local venv="$1" log="$2" py
  if [ ! -x "$venv/bin/python" ]; then
    py="$(find_python)"
    "$log" "creating venv $venv with $py"
    "$py" -m venv "$venv"
  fi
}
