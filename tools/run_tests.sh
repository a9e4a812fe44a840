#!/usr/bin/env bash
# Run the whole test suite inside the dev environment (called by `make test`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
python - <<'PY'
import platform, sys
print(f'[test] interpreter: Python {platform.python_version()} ({sys.executable})')
import rclpy, vision_msgs.msg, repvit_ros
print(f'[test] rclpy from {rclpy.__file__}')
print(f'[test] vision_msgs (test copy) from {vision_msgs.msg.__file__}')
print(f'[test] repvit_ros from {repvit_ros.__file__}')
PY
# A private DDS domain per run, discovery kept on this host.
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( (RANDOM % 100) + 100 ))}"
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export ROS_LOCALHOST_ONLY=1
echo "[test] ROS_DOMAIN_ID=$ROS_DOMAIN_ID"
exec python -m pytest -p no:cacheprovider "$@"
