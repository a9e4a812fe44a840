#!/usr/bin/env bash
# Build the repvit_ros development environment from nothing but this repository and PyPI:
#   1. a venv on the board's Python (3.10) where available, else python3 >= 3.10;
#   2. the pinned ROS 2 wheels, runtime libraries, test tools and linters;
#   3. test copies of vision_msgs, hbm_img_msgs, ai_msgs and composition_interfaces
#      (tools/test_msgs) built with colcon into their own prefix, build/test_msgs_install, never
#      into the package's install space;
#   4. colcon build of repvit_ros itself into build/install.
# Every step is skipped when its inputs have not changed, so re-running takes seconds.
# The same steps make the environment of another ROS distribution (make env-jazzy) from
#   REPVIT_VENV          the venv (default .venv),
#   REPVIT_REQUIREMENTS  its pins (default tools/requirements.txt: Kilted),
#   REPVIT_PYTHON_VERSION  the Python it is made with (default 3.10, see find_python.sh),
#   REPVIT_BUILD         the build folder (default build/), one per distribution, never shared.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${REPVIT_VENV:-$ROOT/.venv}"
BUILD="${REPVIT_BUILD:-$ROOT/build}"
REQS="${REPVIT_REQUIREMENTS:-$ROOT/tools/requirements.txt}"
log() { echo "[setup_env] $*"; }

# shellcheck source=find_python.sh
. "$ROOT/tools/find_python.sh"

# 1. venv
ensure_venv "$VENV" log
PYV="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
log "interpreter: $("$VENV/bin/python" --version) ($VENV/bin/python)"

# 2. pinned packages
# The ROS wheels' CMake exports carry their build machine's include paths
# (/opt/python/cpXY-cpXY/include/pythonX.Y and numpy's include dir): point them here.
fix_ros_cmake_paths() {
  local pyinc npinc
  pyinc="$("$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  npinc="$("$1/bin/python" -c 'import numpy; print(numpy.get_include())')"
  "$1/bin/python" "$ROOT/tools/fix_cmake_paths.py" "$1/share" "$pyinc" "$npinc"
}
install_pinned "$VENV" "$REQS" log "with tools/requirements-common.txt" fix_ros_cmake_paths

source "$ROOT/tools/activate" --no-install-space

# 3. test message packages, built from a copy so that they never sit in a colcon workspace
#    next to repvit_ros (the source folder also carries COLCON_IGNORE, the build folder too).
mkdir -p "$BUILD"
touch "$BUILD/COLCON_IGNORE"
msgs_hash="$(cd "$ROOT/tools/test_msgs" && find . -type f -print0 | sort -z |
             xargs -0 sha256sum | sha256sum | cut -d' ' -f1)-$PYV"
if [ "$(cat "$BUILD/test_msgs_install/.stamp" 2>/dev/null)" != "$msgs_hash" ]; then
  log "building test copies of vision_msgs, hbm_img_msgs, ai_msgs and composition_interfaces"
  rm -rf "$BUILD/test_msgs_src" "$BUILD/test_msgs_build" "$BUILD/test_msgs_install"
  mkdir -p "$BUILD/test_msgs_src"
  cp -r "$ROOT/tools/test_msgs/vision_msgs" "$ROOT/tools/test_msgs/hbm_img_msgs" \
    "$ROOT/tools/test_msgs/ai_msgs" "$ROOT/tools/test_msgs/composition_interfaces" \
    "$BUILD/test_msgs_src/"
  (cd "$BUILD" && colcon --log-base "$BUILD/log" build \
      --base-paths "$BUILD/test_msgs_src" \
      --build-base "$BUILD/test_msgs_build" --install-base "$BUILD/test_msgs_install" \
      --merge-install \
      --cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$VENV/bin/python" \
      --event-handlers console_direct- >"$BUILD/test_msgs_build.log" 2>&1) || {
    tail -50 "$BUILD/test_msgs_build.log"; exit 1; }
  echo "$msgs_hash" > "$BUILD/test_msgs_install/.stamp"
fi

# 4. repvit_ros itself, a normal colcon build of the ament_python package.
log "colcon build repvit_ros"
(cd "$BUILD" && colcon --log-base "$BUILD/log" build --paths "$ROOT" \
    --build-base "$BUILD/build" --install-base "$BUILD/install" --merge-install \
    --event-handlers console_direct- >"$BUILD/repvit_ros_build.log" 2>&1) || {
  tail -50 "$BUILD/repvit_ros_build.log"; exit 1; }
log "ready: source tools/activate"
