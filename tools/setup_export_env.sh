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

# The pinned torch wheels are for Python 3.11.
# shellcheck source=find_python.sh
. "$ROOT/tools/find_python.sh"
REPVIT_PYTHON_VERSION=3.11 ensure_venv "$VENV" log
install_pinned "$VENV" "$REQS" log "PyTorch: a few minutes"
log "ready: $("$VENV/bin/python" --version) at $VENV"
