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

install_pinned "$VENV" "$REQS" log
log "ready: $("$VENV/bin/python" --version) at $VENV"
