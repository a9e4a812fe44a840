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
The ``image_source`` executable and node: pictures from files, published as a camera would.

Without a camera: ``ros2 run repvit_ros image_source --ros-args -p path:=cat.jpg`` publishes an
image file, a folder of images (in name order) or a video file, again and again (``loop``), at
``rate`` Hz, each with ``frame_id`` and the time of publishing as its stamp. Raw frames (bgr8,
or nv12 as the RDK camera sends them) go out as ``sensor_msgs/Image`` on ``image_raw``, the topic
``classify.launch.py`` reads by default; JPEG as ``sensor_msgs/CompressedImage`` on
``image_raw/compressed``, image_transport's name for the compressed form of ``image_raw`` (one
topic name, one type: a classifier on ``image_raw`` never meets a CompressedImage publisher).

Files are user input: only regular files are read, none larger than :data:`MAX_FILE_BYTES`,
and a JPEG or PNG is checked from its header against the node's pixel limit before it is
decoded (:func:`repvit_ros.preprocess.decode`). A path that gives no picture (missing,
unreadable, not a regular file, an empty folder, a file that is neither an image nor a video
OpenCV reads) stops the executable with one line and exit code 1; a bad file inside a folder is
skipped, counted and logged, and the others go on. Ctrl-C: exit 0, one line with the count.
"""

import os
import stat
import sys
from typing import Callable, List, NamedTuple, Optional, Tuple, Union

import cv2
import numpy as np
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
import rclpy
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from repvit_ros.classifier import IMAGE_EXTENSIONS, image_format, list_images
from repvit_ros.errors import StartupError
from repvit_ros.frames import message_class
from repvit_ros.layouts import check_pixels, encode, FrameError
from repvit_ros.messages import make_message
from repvit_ros.preprocess import decode, DEFAULT_MAX_INPUT_PIXELS
from repvit_ros.process import end_signal_handling, shutting_down

#: What the pictures are published as: message type and topic of each ``format``.
FORMATS = {'bgr8': ('image', 'image_raw'), 'nv12': ('image', 'image_raw'),
           'jpeg': ('compressed', 'image_raw/compressed')}
RELIABILITY = {'reliable': ReliabilityPolicy.RELIABLE,
               'best_effort': ReliabilityPolicy.BEST_EFFORT}
VIDEO_EXTENSIONS = ('.avi', '.mp4', '.mkv', '.mov', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv')
#: An image file larger than this is not read (a 8192x8192 PNG of noise is about 200 MB).
MAX_FILE_BYTES = 256 << 20
#: Pictures (and video frames) with more pixels are refused: the classifier's own default.
MAX_PIXELS = DEFAULT_MAX_INPUT_PIXELS
MAX_SIDE = 8192  # width and height parameters
_FULL_SCALE = (1 << 30, 1 << 30)  # decode() at full size


class SourceError(StartupError):
    """A path or parameter that gives no pictures; the message says why in one line."""


class Settings(NamedTuple):
    """The node's parameters, read once."""

    path: str
    rate: float
    format: str  # noqa: A003 - the parameter's name
    frame_id: str
    loop: bool
    width: int
    height: int
    reliability: str


def _descriptor(description: str, constraints: str = '', **ranges) -> ParameterDescriptor:
    return ParameterDescriptor(description=description, read_only=True,
                               additional_constraints=constraints, **ranges)


KIND_WORDS = {bool: 'true or false', int: 'an integer', float: 'a number', str: 'a string'}
#: name -> (default, descriptor): every parameter is read once, at start (read-only).
PARAMETERS = {
    'path': ('', _descriptor('Image file, folder of images (published in name order) or video '
                             'file.', 'a regular file or a folder')),
    'rate': (10.0, _descriptor('Pictures per second.', 'from 0.01 to 1000',
                               floating_point_range=[FloatingPointRange(
                                   from_value=0.01, to_value=1000.0, step=0.0)],
                               dynamic_typing=True)),
    'format': ('bgr8', _descriptor('bgr8 or nv12 (sensor_msgs/Image on image_raw), jpeg '
                                   '(sensor_msgs/CompressedImage on image_raw/compressed).',
                                   f'one of: {", ".join(FORMATS)}')),
    'frame_id': ('camera', _descriptor("The pictures' header frame_id.")),
    'loop': (True, _descriptor('Start again after the last picture; false: publish each '
                               'once, then exit.')),
    'width': (0, _descriptor('Picture width; 0: as the file (or kept in proportion to '
                             'height).', f'from 0 to {MAX_SIDE}',
                             integer_range=[IntegerRange(from_value=0, to_value=MAX_SIDE,
                                                         step=1)])),
    'height': (0, _descriptor('Picture height; 0: as the file (or kept in proportion to '
                              'width).', f'from 0 to {MAX_SIDE}',
                              integer_range=[IntegerRange(from_value=0, to_value=MAX_SIDE,
                                                          step=1)])),
    'reliability': ('reliable', _descriptor('Publisher reliability.',
                                            f'one of: {", ".join(RELIABILITY)}')),
}


def check_settings(values: dict) -> Settings:
    """
    Check the parameter values and read them as :class:`Settings`.

    :param values: parameter name -> value.
    :return: the settings.
    :raises SourceError: naming the parameter and what it must be.
    """
    if not isinstance(values['path'], str) or not values['path']:
        raise SourceError('parameter path is required: an image file, a folder of images or a '
                          'video file (-p path:=cat.jpg)')
    rate = values['rate']
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.01 <= rate <= 1000:
        raise SourceError(f'parameter rate must be a number from 0.01 to 1000 (Hz), got {rate!r}')
    for name, choices in (('format', FORMATS), ('reliability', RELIABILITY)):
        if values[name] not in choices:
            raise SourceError(f'parameter {name} must be one of {", ".join(choices)}, got '
                              f'{values[name]!r}')
    for name in ('width', 'height'):
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SIDE:
            raise SourceError(f'parameter {name} must be an integer from 0 to {MAX_SIDE}, got '
                              f'{value!r}')
    if not isinstance(values['loop'], bool):
        raise SourceError(f'parameter loop must be true or false, got {values["loop"]!r}')
    if not isinstance(values['frame_id'], str):
        raise SourceError(f'parameter frame_id must be a string, got {values["frame_id"]!r}')
    return Settings(**{**values, 'rate': float(rate)})


def regular_file(path: str) -> int:
    """
    Check that a path is a regular file this process may read, and give its size.

    :param path: the file.
    :return: its size in bytes.
    :raises SourceError: when it is missing, not a regular file or not readable.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SourceError(f'{path}: {exc.strerror.lower()}') from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(f'{path} is not a regular file')
    if not os.access(path, os.R_OK):
        raise SourceError(f'{path}: permission denied')
    return info.st_size


def read_picture(path: str) -> np.ndarray:
    """
    Read an image file as BGR, checking its size before reading and decoding it.

    :param path: the file.
    :return: HxWx3 BGR uint8.
    :raises SourceError: for a file that is not a readable image within the limits.
    """
    size = regular_file(path)
    if size == 0:
        raise SourceError(f'{path} is empty')
    if size > MAX_FILE_BYTES:
        raise SourceError(f'{path} is {size} bytes, over the {MAX_FILE_BYTES >> 20} MB limit '
                          f'of an image file')
    try:
        with open(path, 'rb') as f:
            data = np.frombuffer(f.read(MAX_FILE_BYTES + 1), np.uint8)
    except OSError as exc:
        raise SourceError(f'cannot read {path}: {exc.strerror}') from None
    fmt = image_format(data)
    try:
        if fmt is not None:  # the node's checks: the declared size first, then the decoder
            return decode(data, fmt, _FULL_SCALE, 'stretch', max_input_pixels=MAX_PIXELS)
        img = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if img is None:
            raise FrameError('not an image OpenCV can read')
        check_pixels('image', img.shape[1], img.shape[0], MAX_PIXELS)
        return img
    except FrameError as exc:
        raise SourceError(f'{path}: {exc}') from None


def resize(bgr: np.ndarray, width: int, height: int, even: bool) -> np.ndarray:
    """
    Scale a picture to the size the parameters ask (0: as it is, or in proportion).

    :param bgr: the picture.
    :param width: wanted width, 0 for the picture's (or in proportion to ``height``).
    :param height: wanted height, 0 for the picture's (or in proportion to ``width``).
    :param even: round the size down to even numbers (NV12 needs them), at least 2.
    :return: the picture at that size (itself when it already is).
    """
    h, w = bgr.shape[:2]
    if width and not height:
        height = max(1, round(h * width / w))
    elif height and not width:
        width = max(1, round(w * height / h))
    width, height = width or w, height or h
    if even:
        width, height = max(2, width & ~1), max(2, height & ~1)
        if bgr.shape[1] < 2 or bgr.shape[0] < 2:
            bgr = cv2.resize(bgr, (max(2, bgr.shape[1]), max(2, bgr.shape[0])),
                             interpolation=cv2.INTER_NEAREST)
    if (width, height) == (bgr.shape[1], bgr.shape[0]):
        return bgr
    shrink = width <= bgr.shape[1] and height <= bgr.shape[0]
    return cv2.resize(bgr, (width, height),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


class ImageFiles:
    """The pictures of one image file or of a folder's image files, in turn."""

    def __init__(self, paths: List[str], log_skip: Callable[[str], None],
                 first: Optional[np.ndarray] = None):
        """
        Take the files; unless given, the first readable picture is read now.

        :param paths: the image files, in publishing order.
        :param log_skip: called with a line for each file skipped.
        :param first: the first file's picture, when the caller has read it already.
        :raises SourceError: when no file gives a picture.
        """
        self._paths = list(paths)
        self._log_skip = log_skip
        self.skipped = 0
        self._next = 0 if first is None else 1
        self._pending: Optional[np.ndarray] = first
        if first is None:
            self._pending = self.read()
        if self._pending is None:
            raise SourceError(f'no readable image: all {self.skipped} image file(s) skipped')

    @property
    def count(self) -> int:
        """Count the files still in turn (bad ones leave it)."""
        return len(self._paths)

    def read(self) -> Optional[np.ndarray]:
        """
        Read the next picture, skipping (for good) files that turn out bad.

        :return: BGR, or None after the last file.
        """
        if self._pending is not None:
            img, self._pending = self._pending, None
            return img
        while self._next < len(self._paths):
            try:
                img = read_picture(self._paths[self._next])
            except SourceError as exc:
                self.skipped += 1
                self._log_skip(f'skipped {exc} ({self.skipped} file(s) skipped so far)')
                del self._paths[self._next]
                continue
            self._next += 1
            return img
        return None

    def at_end(self) -> bool:
        """Tell whether the last file was just read (a source that does not loop ends)."""
        return self._pending is None and self._next >= len(self._paths)

    def rewind(self) -> None:
        """Start again from the first file."""
        self._next = 0

    def close(self) -> None:
        """Release nothing: no file is held open."""


class VideoFile:
    """The frames of one video file, in turn."""

    def __init__(self, path: str):
        """
        Open a video and read its first frame.

        :param path: the file.
        :raises SourceError: when it cannot be opened or gives no frame.
        """
        regular_file(path)
        self._path = path
        self._cap = cv2.VideoCapture(path)
        if not self._cap.isOpened():
            raise SourceError(f'{path} is not an image or a video OpenCV can read')
        w = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        h = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        try:
            check_pixels('video', w, h, MAX_PIXELS)
        except FrameError as exc:
            self.close()
            raise SourceError(f'{path}: {exc}') from None
        self._first: Optional[np.ndarray] = self._read()
        if self._first is None:
            self.close()
            raise SourceError(f'{path}: no frame could be read from it')
        self.skipped = 0
        self._ended = False

    count = 1

    def _read(self) -> Optional[np.ndarray]:
        ok, frame = self._cap.read()
        return frame if ok and frame is not None and frame.ndim == 3 else None

    def read(self) -> Optional[np.ndarray]:
        """
        Read the next frame.

        :return: BGR, or None at the end of the video.
        """
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        frame = self._read()
        self._ended = frame is None
        return frame

    def at_end(self) -> bool:
        """Tell whether the video has ended."""
        return self._ended

    def rewind(self) -> None:
        """Start the video again (reopened where seeking back is not supported)."""
        self._ended = False
        if not self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0):
            self._cap.release()
            self._cap = cv2.VideoCapture(self._path)

    def close(self) -> None:
        """Release the video."""
        self._cap.release()


def open_source(path: str, log: Callable[[str], None]) -> Union[ImageFiles, VideoFile]:
    """
    Open what a path names: an image file, a folder of images or a video file.

    :param path: the path.
    :param log: called with a line for each file of a folder that is skipped.
    :return: an :class:`ImageFiles` or :class:`VideoFile`.
    :raises SourceError: when the path gives no picture.
    """
    if os.path.isdir(path):
        if not os.access(path, os.R_OK | os.X_OK):
            raise SourceError(f'{path}: permission denied')
        images = list_images(path, recursive=False)
        others = [f for f in os.listdir(path) if not f.startswith('.') and
                  os.path.join(path, f) not in images]
        if others:
            log(f'{path}: left out {len(others)} entr{"y" if len(others) == 1 else "ies"} not '
                f'named as an image file ({", ".join(sorted(others)[:3])}'
                f'{", ..." if len(others) > 3 else ""})')
        if not images:
            raise SourceError(f'{path} holds no image files ({", ".join(IMAGE_EXTENSIONS)})')
        try:
            return ImageFiles(images, log)
        except SourceError as exc:
            raise SourceError(f'{path}: {exc}') from None
    regular_file(path)
    if path.lower().endswith(VIDEO_EXTENSIONS):
        return VideoFile(path)
    try:
        first = read_picture(path)
    except SourceError:
        if path.lower().endswith(IMAGE_EXTENSIONS):
            raise
        try:  # a video by another name?
            return VideoFile(path)
        except SourceError:
            raise SourceError(f'{path} is not an image or a video OpenCV can read') from None
    return ImageFiles([path], log, first)


class ImageSource(Node):
    """
    Publish the pictures of an image file, a folder of images or a video, like a camera.

    A node for a component container (``repvit_ros::ImageSource``) or any executor, and the
    ``image_source`` executable. Read-only parameters: see :data:`PARAMETERS`. When a source
    that does not loop has published its last picture, or every file of a folder turned out
    bad, :attr:`finished` completes with the exit code (0, resp. 1).

    :param node_name: the node's name.
    :param kwargs: passed to :class:`rclpy.node.Node`.
    :raises SourceError: for a parameter or path that gives no pictures.
    """

    def __init__(self, node_name: str = 'image_source', **kwargs):
        super().__init__(node_name, **kwargs)
        values = {}
        for name, (default, desc) in PARAMETERS.items():
            try:
                values[name] = self.declare_parameter(name, default, desc).value
            except (InvalidParameterTypeException, InvalidParameterValueException):
                # Declared again without a type or range, only to name the refused value.
                given = self.declare_parameter(name, None,
                                               ParameterDescriptor(dynamic_typing=True)).value
                rule = f' ({desc.additional_constraints})' if desc.additional_constraints \
                    else ''
                raise SourceError(f'parameter {name} must be {KIND_WORDS[type(default)]}'
                                  f'{rule}, got {given!r}') from None
        self._cfg = cfg = check_settings(values)
        self.finished = Future()
        self._sent = 0
        self._source = open_source(cfg.path, self.get_logger().warning)
        msg_type, topic = FORMATS[cfg.format]
        self._msg_type = msg_type
        self._payload: Optional[Tuple[np.ndarray, bytes]] = None  # a single image, encoded once
        self._pub = self.create_publisher(message_class(msg_type), topic, QoSProfile(
            depth=5, reliability=RELIABILITY[cfg.reliability]))
        self._timer = self.create_timer(1.0 / cfg.rate, self._publish)
        kind = 'video' if isinstance(self._source, VideoFile) else \
            f'{self._source.count} image(s)' if os.path.isdir(cfg.path) else 'image'
        size = f' {cfg.width}x{cfg.height}' if cfg.width and cfg.height else \
            f' {cfg.width} wide' if cfg.width else f' {cfg.height} high' if cfg.height else ''
        self.get_logger().info(
            f'publishing {kind} {cfg.path} as {cfg.format}{size} at {cfg.rate:g} Hz on '
            f'{self._pub.topic_name} ({cfg.reliability}, frame_id {cfg.frame_id!r}'
            f'{", looping" if cfg.loop else ", once"})')

    @property
    def sent(self) -> int:
        """Count the pictures published so far."""
        return self._sent

    def _picture(self) -> Optional[Tuple[np.ndarray, bytes]]:
        if self._payload is not None:
            return self._payload
        bgr = self._source.read()
        if bgr is None:
            return None
        cfg = self._cfg
        rgb = cv2.cvtColor(resize(bgr, cfg.width, cfg.height, even=cfg.format == 'nv12'),
                           cv2.COLOR_BGR2RGB)
        payload = (rgb, encode(rgb, cfg.format))
        if isinstance(self._source, ImageFiles) and self._source.count == 1:
            self._payload = payload  # the same picture every time
        return payload

    def _publish(self) -> None:
        if self.finished.done():
            return
        cfg = self._cfg
        picture = self._picture()
        if picture is None and cfg.loop and self._source.count:
            self._source.rewind()
            picture = self._picture()
        if picture is None:
            if self._source.count:
                self._finish(0, f'end of {cfg.path}')
            else:
                self._finish(1, f'no picture left to publish: all {self._source.skipped} '
                                f'file(s) of {cfg.path} were skipped')
            return
        rgb, data = picture
        self._pub.publish(make_message(self._msg_type, rgb, cfg.format,
                                       self.get_clock().now().nanoseconds,
                                       frame_id=cfg.frame_id, data=data))
        self._sent += 1
        if not cfg.loop and self._source.at_end():
            self._finish(0, f'end of {cfg.path}')

    def _finish(self, code: int, why: str) -> None:
        self._timer.cancel()
        (self.get_logger().error if code else self.get_logger().info)(
            f'{why}: published {self._sent} picture(s)')
        self.finished.set_result(code)

    def destroy_node(self) -> None:
        """Stop publishing and release the source."""
        source = getattr(self, '_source', None)
        if source is not None:
            source.close()
        super().destroy_node()


def main(args: Optional[List[str]] = None) -> int:
    """
    Run the image source until Ctrl-C (or the end of a source that does not loop).

    :param args: command-line arguments (ROS arguments included).
    :return: exit code: 0 after Ctrl-C or the end, 1 when the source cannot start or every
        file turned out bad.
    """
    rclpy.init(args=args)
    logger = rclpy.logging.get_logger('image_source')
    node: Optional[ImageSource] = None
    code = 0
    try:
        node = ImageSource()
        executor = SingleThreadedExecutor(context=node.context)
        executor.add_node(node)
        executor.spin_until_future_complete(node.finished)
        code = node.finished.result() if node.finished.done() else 0
    except SourceError as exc:
        logger.error(f'cannot start: {exc}')
        code = 1
    except rclpy.exceptions.ParameterException as exc:
        logger.error(f'cannot start: invalid parameter: {exc}')
        code = 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:  # noqa: B902 - a signal breaks rclpy calls half-way
        if not shutting_down(rclpy.get_default_context()):
            raise
    finally:
        end_signal_handling()  # a second Ctrl-C does not break the shutdown half-way
        if node is not None:
            if not node.finished.done():
                # After a signal the context goes down and /rosout with it: the console only.
                rclpy.logging.get_logger('image_source.shutdown').info(
                    f'stopped: published {node.sent} picture(s)')
            node.destroy_node()
        rclpy.try_shutdown()
    return code


if __name__ == '__main__':
    sys.exit(main())
