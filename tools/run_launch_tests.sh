#!/usr/bin/env bash
# The real-launch suite (`make test-launch`): README's and docs/' commands run as written under
# the real `ros2` CLI and launch system, which are not on PyPI:
#   1. build them from ../shared/ros2cli (upstream sources; $REPVIT_ROS2CLI overrides the path)
#      into build/ros2cli with the dev venv's Python (about a minute once, then a no-op);
#   2. install the stand-ins of D-Robotics' camera, codec and web packages (tools/stand_ins)
#      into build/stand_ins: launch files of the same names that record their arguments;
#   3. run test/launch (arguments go to pytest) on a private DDS domain.
# $REPVIT_BUILD replaces build/ (make test-jazzy: build/jazzy, built with Jazzy's rclpy).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${REPVIT_BUILD:-$ROOT/build}"
cd "$ROOT"
ROS2CLI="${REPVIT_ROS2CLI:-$ROOT/../shared/ros2cli}"
if [ ! -x "$ROS2CLI/build.sh" ]; then
  echo "[test-launch] no ros2cli sources at $ROS2CLI (see docs/testing.md): the real-launch" \
       "suite needs them; set REPVIT_ROS2CLI" >&2
  exit 1
fi
# build.sh's stamp names the venv's interpreter, not what it pip-installed into it: a venv made
# again (make env after a deleted .venv) keeps the stamp but lost osrf_pycommon, and every
# `ros2 launch` would fail with "No module named 'osrf_pycommon'". Build again then.
if ! python -c 'import osrf_pycommon, netifaces, lark' 2>/dev/null; then
  rm -f "$BUILD/ros2cli/.ros2cli-stamp"
fi
bash "$ROS2CLI/build.sh" "$BUILD/ros2cli" | { grep -v "is ignored: it is neither" || true; }
bash "$ROOT/tools/install_stand_ins.sh" "$BUILD/stand_ins"
set +u
# shellcheck source=/dev/null
source "$BUILD/ros2cli/local_setup.bash"
set -u
# The venv holds the PyPI ROS packages; the stand-ins only this suite sees.
export AMENT_PREFIX_PATH="$BUILD/stand_ins:$AMENT_PREFIX_PATH:$VIRTUAL_ENV"
# shellcheck source=dds_env.sh
. "$ROOT/tools/dds_env.sh"
export REPVIT_LAUNCH_SUITE=1
echo "[test-launch] $(command -v ros2); ROS_DOMAIN_ID=$ROS_DOMAIN_ID"
# launch_testing's pytest plugin predates pytest 9's hook signatures (it fails to load): its
# tests run through its own command, `launch_test`, from test_launch_testing.py.
exec python -m pytest -p no:cacheprovider -p no:launch_testing -p no:launch_ros \
  "$ROOT/test/launch" "$@"
