#!/usr/bin/env bash
# Sourced by tools/setup_env.sh and tools/setup_compat_env.sh. find_python prints the Python to
# build a venv on; ensure_venv DIR LOG creates the venv at DIR with it unless it exists. The board's Python (3.10) first: pyenv's 3.10 (its `python3.10` shim fails unless pyenv
# selects it, so the interpreter is taken from pyenv's versions folder), then a python3.10 on
# PATH, then any python3 >= 3.10.
find_python() {
  local cand
  if command -v pyenv >/dev/null 2>&1; then
    for cand in "$(pyenv root)"/versions/3.10.*/bin/python3.10; do
      [ -x "$cand" ] && { echo "$cand"; return; }
    done
  fi
  for cand in /usr/bin/python3.10 python3.10 python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      command -v "$cand"; return
    fi
  done
  echo "no Python >= 3.10 found (install python3.10)" >&2
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
