#!/usr/bin/env bash
# Build the export tool's venv (make env-export): Python 3.11 with PyTorch, timm and the
# package's runtime libraries, all pinned in tools/requirements-export.txt. No ROS packages;
# repvit_ros is not installed (test/export runs from the source tree with PYTHONPATH at the
# repository root). The install is skipped while tools/requirements-export.txt is unchanged, so
# a re-run takes well under a second. Location: $REPVIT_EXPORT_VENV, default .venv-export.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${REPVIT_EXPORT_VENV:-$ROOT/.venv-export}"
REQS="$ROOT/tools/requirements-export.txt"
log() { echo "[setup_export_env] $*"; }

# The pinned torch wheels are for Python 3.11: pyenv's 3.11 (its `python3.11` shim fails
# unless pyenv selects it, so the interpreter is taken from pyenv's versions folder), then a
# python3.11 on PATH.
find_python311() {
  local cand
  if command -v pyenv >/dev/null 2>&1; then
    for cand in "$(pyenv root)"/versions/3.11.*/bin/python3.11; do
      [ -x "$cand" ] && { echo "$cand"; return; }
    done
  fi
  for cand in /usr/bin/python3.11 python3.11; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys' 2>/dev/null; then
      command -v "$cand"; return
    fi
  done
  echo "[setup_export_env] no Python 3.11 found (the pinned torch wheels need it)" >&2
  exit 1
}

if [ ! -x "$VENV/bin/python" ]; then
  py="$(find_python311)"
  log "creating venv $VENV with $py"
  "$py" -m venv "$VENV"
fi

stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing pinned packages from tools/requirements-export.txt (PyTorch: a few minutes)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS" 2>&1 |
    { grep -v "is ignored: it is neither a file nor a directory" || true; }
  "$VENV/bin/python" -m pip check --disable-pip-version-check >/dev/null || {
    "$VENV/bin/python" -m pip check --disable-pip-version-check; exit 1; }
  echo "$want" > "$stamp"
fi
log "ready: $("$VENV/bin/python" --version) at $VENV"
