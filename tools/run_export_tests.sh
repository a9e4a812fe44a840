#!/usr/bin/env bash
# Run the export tool's tests (called by `make test-export`): test/export in the export venv
# (.venv-export, made by tools/setup_export_env.sh: PyTorch, timm and the package's runtime
# libraries), from the source tree. Arguments go to pytest. These tests need PyTorch, so
# `make test` never collects them (test/conftest.py); the tool's refusals without PyTorch are
# tested there, in test/unit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${REPVIT_EXPORT_VENV:-$ROOT/.venv-export}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[test-export] no export venv at $VENV: run 'make env-export'" >&2
  exit 1
fi
# Only the repository root on the path: nothing from the dev venv or the colcon prefixes. The
# venv's bin first on PATH: README's export command (docs/own-model.md) runs with its `python`.
export PYTHONPATH="$ROOT"
export PATH="$VENV/bin:$PATH"
export REPVIT_EXPORT_SUITE=1
"$VENV/bin/python" - <<'PY'
import platform, sys
import numpy, onnx, onnxruntime, timm, torch
print(f'[test-export] Python {platform.python_version()} ({sys.executable}), torch '
      f'{torch.__version__}, timm {timm.__version__}, onnx {onnx.__version__}, onnxruntime '
      f'{onnxruntime.__version__}, numpy {numpy.__version__}')
PY
exec "$VENV/bin/python" -m pytest -p no:cacheprovider "$ROOT/test/export" "$@"
