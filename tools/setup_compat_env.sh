#!/usr/bin/env bash
# Build the small "Humble compat" venv for the pure unit tests (test/unit): the board's Python
# (3.10) with Ubuntu 22.04's numpy and OpenCV, and the onnxruntime and onnx of README's Ubuntu
# 22.04 install line, all pinned in tools/requirements-humble.txt. No ROS packages; repvit_ros
# is not installed (the tests run from the source tree with PYTHONPATH at the repository root).
# The install is skipped while tools/requirements-humble.txt is unchanged, so a re-run takes
# well under a second. Location: $REPVIT_COMPAT_VENV, default .venv-humble.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${REPVIT_COMPAT_VENV:-$ROOT/.venv-humble}"
REQS="$ROOT/tools/requirements-humble.txt"
log() { echo "[setup_compat_env] $*"; }

# shellcheck source=find_python.sh
. "$ROOT/tools/find_python.sh"

ensure_venv "$VENV" log

stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing pinned packages from tools/requirements-humble.txt"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS" 2>&1 |
    { grep -v "is ignored: it is neither a file nor a directory" || true; }
  # Every pin must hold together as installed: nothing may have pulled a newer numpy.
  "$VENV/bin/python" -m pip check --disable-pip-version-check >/dev/null || {
    "$VENV/bin/python" -m pip check --disable-pip-version-check; exit 1; }
  echo "$want" > "$stamp"
fi
log "ready: $("$VENV/bin/python" --version) at $VENV"
