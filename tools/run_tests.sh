#!/usr/bin/env bash
# Run the test suite (called by `make test`), in two environments:
#   1. the pure unit tests (test/unit) in the Humble compat venv (.venv-humble, made by
#      tools/setup_compat_env.sh): the board's numpy 1.21 and OpenCV 4.5.4 and README's
#      Ubuntu 22.04 onnxruntime, from the source tree, where rclpy and the ROS messages cannot
#      be imported (checked first): the pure modules are tested without ROS here;
#      REPVIT_COMPAT=0 skips this run;
#   2. the whole suite (arguments go to pytest) in the dev environment, with Humble-style
#      field checks in the generated message classes, the measuring scenarios included
#      (pytest.ini deselects them for a plain `pytest test/`).
# A failure in either fails the run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "${REPVIT_COMPAT:-1}" != 0 ]; then
  COMPAT_PY="${REPVIT_COMPAT_VENV:-$ROOT/.venv-humble}/bin/python"
  if [ ! -x "$COMPAT_PY" ]; then
    echo "[test] no compat venv at ${COMPAT_PY%/bin/python}: run 'make env-humble'" >&2
    exit 1
  fi
  # Only the repository root on the path: nothing from the dev venv or the colcon prefixes.
  PYTHONPATH="$ROOT" "$COMPAT_PY" - <<'PY'
import importlib.util, platform, sys
import cv2, numpy, onnx, onnxruntime
print(f'[test] compat: Python {platform.python_version()} ({sys.executable}), '
      f'numpy {numpy.__version__}, cv2 {cv2.__version__}, onnxruntime {onnxruntime.__version__}, '
      f'onnx {onnx.__version__}')
ros = [m for m in ('rclpy', 'sensor_msgs', 'std_msgs', 'vision_msgs')
       if importlib.util.find_spec(m) is not None]
if ros:
    sys.exit(f'[test] compat: {", ".join(ros)} importable here, so test/unit would not show '
             f'that the pure modules load without ROS')
PY
  PYTHONPATH="$ROOT" "$COMPAT_PY" -m pytest -q -p no:cacheprovider "$ROOT/test/unit" || {
    echo "[test] compat: test/unit FAILED on the board's library versions" >&2; exit 1; }
fi

python - <<'PY'
import platform, sys
print(f'[test] interpreter: Python {platform.python_version()} ({sys.executable})')
import rclpy, vision_msgs.msg, repvit_ros
print(f'[test] rclpy from {rclpy.__file__}')
print(f'[test] vision_msgs (test copy) from {vision_msgs.msg.__file__}')
print(f'[test] repvit_ros from {repvit_ros.__file__}')
PY
# shellcheck source=dds_env.sh
. "$ROOT/tools/dds_env.sh"
echo "[test] ROS_DOMAIN_ID=$ROS_DOMAIN_ID ROS_PYTHON_CHECK_FIELDS=$ROS_PYTHON_CHECK_FIELDS"
exec python -m pytest -p no:cacheprovider -m 'measuring or not measuring' "$@"
