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
The image source over real DDS: an image file, a folder and a video, published as a camera.

A subscriber in this process reads what the node publishes: encoding or format, size, frame_id,
increasing stamps, the rate roughly, folders and videos starting again after their last picture.
The installed executable is run for its one-line refusals and its Ctrl-C.
"""

import os
import signal
import subprocess
import time

import cv2
import numpy as np
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros import image_source
from repvit_ros.bench.harness import ChildProcess
from repvit_ros.bench.pictures import jpeg_declaring, sample_picture
from repvit_ros.image_source import ImageSource, read_picture, SourceError
from repvit_ros.layouts import encode, image_view
from ros_support import closing_all, INSTALL_PREFIX, matched, SpunPair, wait_for
from sensor_msgs.msg import CompressedImage, Image

EXECUTABLE = os.path.join(INSTALL_PREFIX, 'lib', 'repvit_ros', 'image_source')
RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


def write_image(path, width, height, seed=0):
    cv2.imwrite(str(path), sample_picture(width, height, seed)[:, :, ::-1])
    return path


def write_video(path, frames=5, size=(160, 120), fps=10):
    """Write a small MJPG video (opencv-python-headless writes it without other codecs)."""
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps, size)
    for i in range(frames):
        out.write(sample_picture(*size, seed=i)[:, :, ::-1])
    out.release()
    return path


@pytest.fixture
def pictures(tmp_path):
    """Write cat.jpg, a folder of three PNGs of different widths (and a bad and a text file)."""
    write_image(tmp_path / 'cat.jpg', 320, 240, seed=1)
    folder = tmp_path / 'pictures'
    folder.mkdir()
    for i, width in enumerate((200, 210, 220)):
        write_image(folder / f'{i}.png', width, 150, seed=i)
    (folder / '1_broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    (folder / 'notes.txt').write_text('not a picture')
    write_video(tmp_path / 'street.avi')
    return tmp_path


class Watcher(SpunPair):
    """An image source in this process and a subscriber to what it publishes."""

    def __init__(self, context, topic='/source/image_raw', msg_class=Image, **params):
        self.got = []
        self.times = []
        self.peer = rclpy.create_node('source_watcher', context=context)
        self.peer.create_subscription(msg_class, topic, self._add, RELIABLE)
        self.node = ImageSource(namespace='source', context=context, parameter_overrides=[
            Parameter(k, value=v) for k, v in params.items()])
        # Its timer publishes from the first spin: the first picture must find the reader
        # matched (matching needs no spinning).
        assert wait_for(lambda: matched(self.node, topic) > 0)
        self.spin(SingleThreadedExecutor(context=context))

    def _add(self, msg):
        self.times.append(time.monotonic())
        self.got.append(msg)


@pytest.fixture
def watch(ros_context):
    yield from closing_all(lambda **kwargs: Watcher(ros_context, **kwargs))


def pixels(msg):
    return image_view(msg.height, msg.width, msg.step, msg.encoding, bytes(msg.data))


def stamps(msgs):
    return [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in msgs]


def test_an_image_file_is_published_as_a_camera_does(watch, pictures):
    w = watch(path=str(pictures / 'cat.jpg'), rate=20.0, frame_id='cat_camera')
    assert wait_for(lambda: len(w.got) >= 20, 10)
    msg = w.got[0]
    assert (msg.encoding, msg.width, msg.height, msg.step) == ('bgr8', 320, 240, 960)
    assert msg.header.frame_id == 'cat_camera'
    want = cv2.imread(str(pictures / 'cat.jpg'))
    assert np.array_equal(pixels(msg), want)  # the file as OpenCV reads it, unchanged
    assert all(np.array_equal(pixels(m), want) for m in w.got[1:5])
    ns = stamps(w.got)
    assert all(b > a for a, b in zip(ns, ns[1:]))  # increasing, the time of publishing
    assert abs(ns[-1] - time.time_ns()) < 5 * 10**9
    period = float(np.median(np.diff(w.times)))
    assert 0.035 < period < 0.07, period  # 20 Hz, roughly
    assert w.node.sent >= len(w.got)


def test_a_folder_loops_in_name_order_skipping_bad_files(watch, pictures):
    w = watch(path=str(pictures / 'pictures'), rate=30.0, format='nv12', frame_id='f')
    assert wait_for(lambda: len(w.got) >= 8, 10)
    # 0.png, 1_broken.jpg (skipped for good, counted), 1.png, 2.png, then 0.png again ...
    assert [m.width for m in w.got[:8]] == [200, 210, 220, 200, 210, 220, 200, 210]
    assert all(m.encoding == 'nv12' and m.height == 150 and m.step == m.width
               for m in w.got[:8])
    assert w.node._source.skipped == 1
    first, again = w.got[0], w.got[3]
    assert bytes(first.data) == bytes(again.data)  # the same picture the second time round


def test_a_video_loops_resized_as_asked(watch, pictures):
    w = watch(path=str(pictures / 'street.avi'), rate=40.0, width=81)
    assert wait_for(lambda: len(w.got) >= 12, 10)
    # 81 wide, the height in proportion (160x120 -> 81x61), bgr8.
    assert all((m.width, m.height, m.encoding) == (81, 61, 'bgr8') for m in w.got)
    frames = [bytes(m.data) for m in w.got[:12]]
    assert len(set(frames[:5])) == 5  # five different frames
    assert frames[5:10] == frames[:5] and frames[10:12] == frames[:2]  # then again


def test_jpeg_goes_out_compressed_on_image_raw_compressed(watch, pictures):
    w = watch(topic='/source/image_raw/compressed', msg_class=CompressedImage,
              path=str(pictures / 'cat.jpg'), format='jpeg', width=160, height=100)
    assert wait_for(lambda: len(w.got) >= 3, 10)
    msg = w.got[0]
    assert msg.format == 'jpeg' and msg.header.frame_id == 'camera'
    img = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (100, 160, 3)
    assert w.node.get_publishers_info_by_topic('/source/image_raw') == []


def test_without_loop_each_picture_goes_once_then_the_source_finishes(watch, pictures):
    w = watch(path=str(pictures / 'pictures'), rate=50.0, loop=False)
    assert wait_for(lambda: w.node.finished.done(), 10)
    assert w.node.finished.result() == 0 and w.node.sent == 3
    assert wait_for(lambda: len(w.got) == 3, 5)
    time.sleep(0.2)
    assert len(w.got) == 3


def test_parameters_are_read_only_and_described(watch, pictures):
    w = watch(path=str(pictures / 'cat.jpg'))
    for name in image_source.PARAMETERS:
        desc = w.node.describe_parameter(name)
        assert desc.read_only and desc.description, name
    assert w.node.describe_parameter('rate').floating_point_range[0].to_value == 1000.0
    assert w.node.describe_parameter('width').integer_range[0].to_value == image_source.MAX_SIDE
    result = w.node.set_parameters([Parameter('rate', value=5.0)])[0]
    assert not result.successful


def test_files_are_checked_before_they_are_read(tmp_path, monkeypatch):
    bomb = tmp_path / 'bomb.jpg'
    bomb.write_bytes(jpeg_declaring(encode(sample_picture(64, 48), 'jpeg'), 60000, 60000))
    with pytest.raises(SourceError, match='over the limit'):
        read_picture(str(bomb))
    big = write_image(tmp_path / 'big.png', 64, 64)
    monkeypatch.setattr(image_source, 'MAX_FILE_BYTES', 100)
    with pytest.raises(SourceError, match='bytes, over the 0 MB limit'):
        read_picture(str(big))
    with pytest.raises(SourceError, match='is empty'):
        (tmp_path / 'empty.png').write_bytes(b'')
        read_picture(str(tmp_path / 'empty.png'))


def run(*args, timeout=30):
    proc = subprocess.run([EXECUTABLE, '--ros-args', *args], capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def test_paths_that_give_no_pictures_are_one_line_and_exit_1(pictures):
    empty = pictures / 'empty'
    empty.mkdir()
    only_bad = pictures / 'only_bad'
    only_bad.mkdir()
    (only_bad / 'a.jpg').write_bytes(b'\xff\xd8 truncated')
    (pictures / 'notes.txt').write_text('not a picture')
    cases = [
        ([], 'parameter path is required'),
        (['-p', f'path:={pictures / "missing.jpg"}'], 'missing.jpg: no such file or directory'),
        (['-p', 'path:=/dev/zero'], '/dev/zero is not a regular file'),
        (['-p', f'path:={empty}'], 'holds no image files'),
        (['-p', f'path:={only_bad}'], 'no readable image: all 1 image file(s) skipped'),
        (['-p', f'path:={pictures / "notes.txt"}'], 'is not an image or a video OpenCV can read'),
        (['-p', f'path:={pictures / "cat.jpg"}', '-p', 'format:=png'],
         'parameter format must be one of bgr8, nv12, jpeg'),
        (['-p', f'path:={pictures / "cat.jpg"}', '-p', 'rate:=0.0'],
         'parameter rate must be a number (from 0.01 to 1000), got 0.0'),
    ]
    for args, words in cases:
        code, out = run(*args)
        assert code == 1, (args, out)
        errors = [ln for ln in out.splitlines() if '[ERROR]' in ln]
        assert len(errors) == 1 and 'Traceback' not in out, out
        assert 'cannot start: ' in errors[0] and words in errors[0], out
        # Only the skipped files' warnings beside it.
        assert all('[ERROR]' in ln or 'skipped' in ln for ln in out.splitlines() if ln), out


def test_ctrl_c_exits_0_with_one_line_of_what_was_published(pictures):
    proc = ChildProcess([EXECUTABLE, '--ros-args', '-p', f'path:={pictures / "street.avi"}',
                         '-p', 'rate:=20.0'])
    try:
        # Ctrl-C once it publishes (start-up takes seconds on a loaded machine), a few frames on.
        assert wait_for(lambda: 'publishing video' in proc.output, 60), proc.output
        time.sleep(0.5)
    finally:
        code = proc.stop(signal.SIGINT, timeout=30)
    out = proc.output
    assert code == 0, out
    assert 'Traceback' not in out, out
    lines = out.strip().splitlines()
    assert 'publishing video' in lines[0] and 'on /image_raw' in lines[0], out
    assert 'stopped: published ' in lines[-1] and len(lines) == 2, out
