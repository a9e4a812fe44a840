# Copyright 2026 repvit_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""README's `ros2 launch` and `ros2 run` lines, run as written, classifying frames."""

from vision_msgs.msg import Classification


def test_headline_command(commands, probe):
    node = commands.documented_start('ros2 launch repvit_ros classify.launch.py model:=m1_0')
    results = probe.listen('/repvit/classification', Classification)
    probe.camera('/image_raw')
    assert results.wait(3), node.output
    assert results.messages[0].header.frame_id == 'camera'
    assert node.stop() == 0, node.output
