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

"""
README's "Run without a camera", run as written: image_source beside classify.launch.py.

The files the commands name (cat.jpg, pictures/, street.avi) are written into the commands'
working directory first; results are read on the documented topics, and every command must
stop on Ctrl-C with exit code 0 and its one line.
"""

import cv2
import numpy as np
import pytest
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.model_tools.photos import load_rgb
from sensor_msgs.msg import CompressedImage, Image
from support import Shell
from vision_msgs.msg import Classification

HEADLINE = 'ros2 launch repvit_ros classify.launch.py model:=m1_0'
CAT = 'ros2 run repvit_ros image_source --ros-args -p path:=cat.jpg'
FOLDER = 'ros2 run repvit_ros image_source --ros-args -p path:=pictures/ -p rate:=2.0'
VIDEO = ('ros2 run repvit_ros image_source --ros-args -p path:=street.avi -p rate:=25.0 '
         '-p format:=nv12 -p width:=960 -p height:=544')
CAT_JPEG = 'ros2 run repvit_ros image_source --ros-args -p path:=cat.jpg -p format:=jpeg'
COMPRESSED = ('ros2 launch repvit_ros classify.launch.py model:=m1_0 input_type:=compressed '
              'image_topic:=/image_raw/compressed')


@pytest.fixture(scope='module')
def files(user_home):
    """Write the files README's commands name into their working directory."""
    work = user_home['work']
    cv2.imwrite(str(work / 'cat.jpg'), load_rgb('chelsea')[:, :, ::-1])
    folder = work / 'pictures'
    folder.mkdir(exist_ok=True)
    for i, width in enumerate((320, 400, 480)):
        cv2.imwrite(str(folder / f'{i}.png'), sample_picture(width, 240, seed=i)[:, :, ::-1])
    video = cv2.VideoWriter(str(work / 'street.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 25,
                            (640, 360))
    for i in range(10):
        video.write(sample_picture(640, 360, seed=i)[:, :, ::-1])
    video.release()
    return work


def stops_with_its_line(source: Shell) -> None:
    """Assert that Ctrl-C ends image_source with exit code 0 and its one line."""
    code = source.stop()
    assert code == 0, f'exit {code}:\n{source.output}'
    assert 'stopped: published ' in source.output and 'Traceback' not in source.output, \
        source.output


def classifies(node: Shell, results, count: int = 3) -> None:
    assert results.wait(count), f'no results; the launch printed:\n{node.output}'
    assert 'cannot start' not in node.output and 'Traceback' not in node.output, node.output


def test_an_image_file_beside_the_headline_launch(commands, probe, files):
    frames = probe.listen('/image_raw', Image)
    results = probe.listen('/repvit/classification', Classification)
    source = commands.documented_start(CAT)
    node = commands.documented_start(HEADLINE)
    classifies(node, results)
    assert results.messages[0].header.frame_id == 'camera'
    assert frames.wait(1), source.output
    frame = frames.messages[0]
    assert (frame.encoding, frame.width, frame.height) == ('bgr8', 450, 300)
    assert node.stop() == 0, node.output
    stops_with_its_line(source)
    assert 'publishing image cat.jpg as bgr8 at 10 Hz on /image_raw' in source.output


def test_a_folder_and_a_video(commands, probe, files):
    frames = probe.listen('/image_raw', Image)
    source = commands.documented_start(FOLDER)
    assert frames.wait(4), source.output
    # Name order, then again (the first pictures may go out before this probe is matched).
    widths = [m.width for m in frames.messages[:4]]
    cycle = {320: 400, 400: 480, 480: 320}
    assert all(cycle[a] == b for a, b in zip(widths, widths[1:])), widths
    stops_with_its_line(source)
    frames.messages.clear()
    source = commands.documented_start(VIDEO)

    def ten_frames_then_again() -> bool:
        frames.messages.clear()
        assert frames.wait(25), source.output
        got = frames.messages[:25]
        assert all((m.encoding, m.width, m.height, m.step) == ('nv12', 960, 544, 960)
                   for m in got)
        stamps = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in got]
        assert all(b > a for a, b in zip(stamps, stamps[1:]))
        data = [bytes(m.data) for m in got]
        return len(set(data[:10])) == 10 and data[10:25] == data[:15]
    # 25 frames in a row: ten different ones, then the same again. A frame lost on the way (a
    # reliable keep-last-5 writer of 783 KB frames on a loaded machine may overwrite one)
    # breaks a window, so three windows of 25 get a chance each; a source that does not loop
    # the video in order fails all three.
    assert any(ten_frames_then_again() for _ in range(3))
    stops_with_its_line(source)


def test_jpeg_to_a_compressed_classifier(commands, probe, files):
    jpegs = probe.listen('/image_raw/compressed', CompressedImage)
    results = probe.listen('/repvit/classification', Classification)
    source = commands.documented_start(CAT_JPEG)
    node = commands.documented_start(COMPRESSED)
    classifies(node, results)
    assert node.wait_output('input compressed on /image_raw/compressed', 10), node.output
    assert jpegs.wait(1), source.output  # the probe discovers the source on its own time
    assert jpegs.messages[0].format == 'jpeg'
    img = cv2.imdecode(np.frombuffer(bytes(jpegs.messages[0].data), np.uint8),
                       cv2.IMREAD_COLOR)
    assert img.shape == (300, 450, 3)
    assert node.stop() == 0, node.output
    stops_with_its_line(source)
