#!/usr/bin/env bash
# Install the stand-ins of D-Robotics packages (tools/stand_ins, for the real-launch suite only)
# into a prefix that ament_index can find: share/ament_index/resource_index/packages/<name>,
# share/<name>/package.xml and share/<name>/launch/<file> (+ its arguments as <file>.json).
#   usage: tools/install_stand_ins.sh PREFIX
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${1:?usage: install_stand_ins.sh PREFIX}"
rm -rf "$PREFIX"
python3 - "$ROOT/tools/stand_ins" "$PREFIX" <<'PY'
import json, os, shutil, sys
src, prefix = sys.argv[1], sys.argv[2]
table = json.load(open(os.path.join(src, 'packages.json'), encoding='utf-8'))
index = os.path.join(prefix, 'share', 'ament_index', 'resource_index', 'packages')
os.makedirs(index, exist_ok=True)
for name, spec in table.items():
    if name.startswith('_'):
        continue
    share = os.path.join(prefix, 'share', name)
    os.makedirs(os.path.join(share, 'launch'))
    open(os.path.join(index, name), 'w').close()
    with open(os.path.join(share, 'package.xml'), 'w', encoding='utf-8') as f:
        f.write(f'<?xml version="1.0"?>\n<package format="3">\n  <name>{name}</name>\n'
                f'  <version>0.0.0</version>\n  <description>TEST STAND-IN of {name}: records '
                f'its launch arguments (repvit_ros tools/stand_ins)</description>\n'
                f'  <maintainer email="repvit-ros@users.noreply.github.com">repvit_ros '
                f'developers</maintainer>\n  <license>Apache-2.0</license>\n</package>\n')
    launch = os.path.join(share, 'launch', spec['launch'])
    shutil.copy(os.path.join(src, 'stand_in.launch.py'), launch)
    with open(launch + '.json', 'w', encoding='utf-8') as f:
        json.dump(spec['arguments'], f, indent=1)
PY
echo "[stand_ins] installed into $PREFIX"
