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
The classifier's parameters: one table, read by everything that needs a parameter's rules.

The table is :class:`Settings`, the node's frozen configuration: each field is a parameter, typed,
and carries its rules (:func:`parameter`), read as a :class:`Spec`: name, default, description,
whether it may change at runtime, its bounds and its allowed values (:data:`PARAMETERS`). The
node builds every ROS parameter descriptor from them (range, ``read_only``,
``additional_constraints`` naming the allowed values), validates startup values and runtime
changes with :func:`check`, and reads its configuration as one :class:`Settings`. No ROS here:
the same rules are unit-tested without rclpy.
"""

from dataclasses import dataclass, field, fields, replace
import os
import re
from typing import Any, Dict, Iterable, NamedTuple, Optional, Sequence, Tuple

from repvit_ros.backends import BACKENDS
from repvit_ros.errors import StartupError
from repvit_ros.frames import INPUT_TYPES
from repvit_ros.models import MODELS
from repvit_ros.preprocess import DEFAULT_MAX_INPUT_PIXELS, RESIZE_MODES, YUV_RANGES

QOS_RELIABILITY = ('auto', 'reliable', 'best_effort')
CLASS_ID_FORMATS = ('index', 'label')


class ParameterError(StartupError, ValueError):
    """
    A parameter value that breaks its rules; the message names the parameter and the rule.

    :param message: the message.
    :param name: the parameter's name, where one parameter is at fault.
    """

    def __init__(self, message: str, name: Optional[str] = None):
        super().__init__(message)
        self.name = name


#: What each kind of value is called in messages.
KIND_WORDS = {bool: 'true or false', int: 'an integer', float: 'a number', str: 'a string',
              tuple: 'a list of strings'}


class Spec(NamedTuple):
    """One parameter's rules."""

    name: str
    default: Any
    description: str
    runtime: bool = False                             # may change while the node runs
    bounds: Optional[Tuple[float, float]] = None      # inclusive range of a number
    choices: Optional[Tuple[str, ...]] = None         # allowed values of a string

    @property
    def kind(self) -> type:
        """Give the Python type of the value: bool, int, float, str or tuple (of str)."""
        return type(self.default)

    def constraints(self) -> str:
        """
        Describe the allowed values in words (the descriptor's ``additional_constraints``).

        :return: for example ``one of: letterbox, center_crop, stretch``; empty when free.
        """
        if self.choices:
            return f'one of: {", ".join(self.choices)}'
        if self.bounds:
            return f'from {self.bounds[0]:g} to {self.bounds[1]:g}'
        return ''


def parameter(default: Any, description: str, runtime: bool = False,
              bounds: Optional[Tuple[float, float]] = None,
              choices: Optional[Tuple[str, ...]] = None) -> Any:
    """
    Declare a :class:`Settings` field with its parameter's rules (the name is the field's).

    :param default: the default value; its type is the parameter's kind.
    :param description: what the parameter does (the descriptor's description).
    :param runtime: whether it may change while the node runs.
    :param bounds: inclusive range of a number.
    :param choices: allowed values of a string.
    :return: the dataclass field.
    """
    return field(default=default, metadata={'rules': {
        'description': description, 'runtime': runtime, 'bounds': bounds, 'choices': choices}})


@dataclass(frozen=True)
class Settings:
    """The node's configuration: one frozen field per parameter, each carrying its rules."""

    image_topics: Tuple[str, ...] = parameter(
        (), 'Camera topics to classify, all through one model and one worker '
        'pool; each gets its own outputs under <name>/. Empty: the one topic `image`.')
    camera_names: Tuple[str, ...] = parameter(
        (), 'Names of the image_topics cameras (same length); empty: the last '
        'meaningful segment of each topic.')
    model: str = parameter(
        'm1_0', 'RepViT size, used when model_path is empty. Changing it at runtime '
        'loads the new model beside the old one and swaps it in between two frames.',
        runtime=True, choices=tuple(MODELS))
    model_path: str = parameter(
        '', 'Model file (.bin or .onnx); empty: look up `model` in the models '
        'directory, then RDK OS preinstalled models. Runtime: as model.', runtime=True)
    backend: str = parameter(
        'auto', 'Inference runtime; auto: .bin on the BPU, .onnx on ONNX Runtime. '
        'Runtime: as model.', runtime=True, choices=BACKENDS)
    threads: int = parameter(
        2, 'Inference workers.', bounds=(1, 16))
    intra_op_threads: int = parameter(
        1, 'ONNX Runtime threads inside one inference (ignored by BPU '
        'backends).', bounds=(1, 16))
    input_type: str = parameter(
        'image', 'image (sensor_msgs/Image), compressed '
        '(sensor_msgs/CompressedImage) or hbmem (hbm_img_msgs/HbmMsg1080P).',
        choices=INPUT_TYPES)
    qos_reliability: str = parameter(
        'auto', 'Input reliability: auto (match the publishers found, again '
        'whenever they change), reliable or best_effort.', choices=QOS_RELIABILITY)
    resize_mode: str = parameter(
        'letterbox', 'How a frame is fitted to the model input.',
        choices=RESIZE_MODES)
    yuv_range: str = parameter(
        'full', 'NV12 range fed to the model: full (what the .bin models were '
        'compiled for) or video (RDK model zoo demo).', choices=YUV_RANGES)
    class_id_format: str = parameter(
        'index', 'ObjectHypothesis.class_id: index (class index as a '
        'decimal string, as in LabelInfo) or label (class name).', choices=CLASS_ID_FORMATS)
    queue_size: int = parameter(
        1, 'Frames waiting for a worker; the oldest is dropped when full.',
        bounds=(1, 100))
    labels_path: str = parameter(
        '', 'Class names file, one per model output; empty: bundled '
        'ImageNet-1k (class_<i> for a model of another class count). Runtime: as model.',
        runtime=True)
    max_input_pixels: int = parameter(
        DEFAULT_MAX_INPUT_PIXELS, 'Frames (raw, or JPEG/PNG by their '
        'declared size) with more pixels are refused as bad before any decoding.',
        bounds=(1, 1 << 31))
    bit_depth: int = parameter(
        16, 'Significant bits of 16-bit (mono16) frames, e.g. 10 or 12 for '
        'sensors that fill 16-bit words partly.', bounds=(9, 16))
    annotated_width: int = parameter(
        640, 'Width of the annotated image (annotated_image and its '
        '/compressed JPEG), drawn only while someone subscribes; 0: the frame width.',
        runtime=True, bounds=(0, 7680))
    perception_topic: str = parameter(
        '', 'Also publish every result as ai_msgs/PerceptionTargets on '
        'this topic, for the RDK web display (D-Robotics websocket); empty: off.')
    detections_topic: str = parameter(
        '', 'Classify the boxes of a detector (vision_msgs/'
        'Detection2DArray) on this topic, paired with frames by stamp, and publish them on '
        'classified_detections instead of whole-frame results; with image_topics each camera '
        'reads <name>/<detections_topic>. Empty: off.')
    sync_queue_size: int = parameter(
        10, 'Frames, and separately detection arrays, that may wait for '
        'their partner (the oldest goes first).', bounds=(1, 100))
    sync_timeout: float = parameter(
        0.5, 'Seconds a frame or a detection array waits for its partner '
        'before it is dropped and counted.', bounds=(0.001, 10.0))
    roi_padding: float = parameter(
        0.1, 'Each box grows by this fraction of its size on every side '
        'before it is clamped to the frame and cropped.', runtime=True, bounds=(0.0, 2.0))
    roi_min_size: int = parameter(
        8, 'Boxes narrower or lower than this many pixels (after padding and '
        'clamping) are skipped and counted.', runtime=True, bounds=(1, 4096))
    max_rois: int = parameter(
        16, 'Boxes classified per frame at most, the largest first; the rest are '
        'skipped and counted.', runtime=True, bounds=(1, 256))
    keep_detector_hypotheses: bool = parameter(
        False, "Keep the detector's own hypotheses after the "
        "classifier's in each classified detection.", runtime=True)
    autostart: bool = parameter(
        False, 'Managed node (classifier_managed) only: configure and activate at '
        'start, without a lifecycle manager.')
    top_k: int = parameter(
        5, 'Classes per result.', runtime=True, bounds=(1, 1000))
    min_score: float = parameter(
        0.0, 'Leave out classes below this probability.', runtime=True,
        bounds=(0.0, 1.0))
    max_rate: float = parameter(
        0.0, 'Classify at most this many frames per second (0: every frame).',
        runtime=True, bounds=(0.0, 1000.0))


#: The table of every parameter's rules, in declaration order, read from :class:`Settings`.
PARAMETERS: Tuple[Spec, ...] = tuple(Spec(f.name, f.default, **f.metadata['rules'])
                                     for f in fields(Settings))
SPECS: Dict[str, Spec] = {s.name: s for s in PARAMETERS}
#: the parameters that choose the model: changing one at runtime loads a model
MODEL_CHOICE = ('model', 'model_path', 'backend', 'labels_path')


def check(spec: Spec, value: Any) -> Tuple[Any, Optional[str]]:
    """
    Check a value against a parameter's rules.

    Numbers: an integer is accepted for a float parameter (``-p max_rate:=10``). Only the value
    is inspected, never rclpy's parameter type (an IntEnum on Kilted, a plain Enum on Humble).

    :param spec: the parameter's rules.
    :param value: the candidate value.
    :return: (the value as the parameter's type, None) or (None, the reason it is refused).
    """
    kind = spec.kind
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is tuple:
        if value is None:  # rcl's YAML parser gives `[]` no type: rclpy hands over None
            return (), None
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(value), None
    if kind is tuple or type(value) is not kind:
        return None, f'{spec.name} must be {KIND_WORDS[kind]}, got {describe_value(value)}'
    if spec.bounds is not None and not spec.bounds[0] <= value <= spec.bounds[1]:
        return None, f'{spec.name}={value} is out of range ({spec.constraints()})'
    if spec.choices is not None and value not in spec.choices:
        return None, f'{spec.name}={str(value)[:40]!r} is invalid; {spec.constraints()}'
    return value, None


def describe_value(value: Any) -> str:
    """
    Describe a refused value in words: ``'many' (a string)``, ``[1, 2] (a list of integers)``.

    :param value: the value.
    :return: the words.
    """
    if value is None:
        return 'no value'
    shown = repr(value[:40]) if isinstance(value, str) else str(value)[:40]
    return f'{shown} ({_kind_of(value)})'


def _kind_of(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        if not value:
            return 'an empty list'
        kinds = sorted({_kind_of(v).split(' ', 1)[-1] for v in value})
        return f'a list of {" and ".join(kinds)}s'
    for kind, word in KIND_WORDS.items():
        if type(value) is kind and kind is not tuple:
            return {bool: 'a boolean', float: 'a floating-point number'}.get(kind, word)
    return f'a {type(value).__name__}'


def settings_from(values: Dict[str, Any]) -> Settings:
    """
    Build the startup settings from declared values, checking every one.

    :param values: parameter name -> value, for every parameter of the table.
    :return: the settings.
    :raises ParameterError: naming the first value that breaks its rules.
    """
    checked = {}
    for spec in PARAMETERS:
        value, reason = check(spec, values[spec.name])
        if reason:
            raise ParameterError(f'parameter {reason}', spec.name)
        checked[spec.name] = value
    topics = checked['image_topics']
    twice = sorted({t for t in topics if topics.count(t) > 1})
    if twice:
        raise ParameterError(f'parameter image_topics lists {", ".join(twice)} more than once',
                             'image_topics')
    if topics or checked['camera_names']:
        camera_names(topics, checked['camera_names'])
    if checked['model_path'] and os.path.isdir(checked['model_path']):
        raise ParameterError(f'parameter model_path={checked["model_path"]!r} is a directory, '
                             f'not a model file', 'model_path')
    return Settings(**checked)


def params_file_setting(name: str, argv: Sequence[str]) -> Optional[str]:
    """
    Find the ``--params-file`` of a command line that sets a parameter, to name it in errors.

    rcl reads the files in order and a later one wins, so the last file that has a key
    ``name:`` is the one whose value the node got. Files are only searched as text.

    :param name: the parameter's name.
    :param argv: the process's command line (ROS arguments included).
    :return: the file's path, or None (the value came from elsewhere, such as ``-p``).
    """
    key = re.compile(rf'^\s*{re.escape(name)}\s*:', re.MULTILINE)
    found = None
    for flag, path in zip(argv, argv[1:]):
        if flag != '--params-file':
            continue
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                text = f.read(1 << 20)
        except OSError:
            continue
        if key.search(text):
            found = path
    return found


#: A ROS name token (one segment of a name): what a camera name becomes in its topics.
NAME_TOKEN = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')

GENERIC_SEGMENTS = ('image', 'image_raw', 'image_color', 'image_rect', 'image_rect_color',
                    'image_mono', 'compressed', 'hbmem_img', 'camera', 'color', 'rgb')


def camera_names(topics: Tuple[str, ...], names: Tuple[str, ...]) -> Tuple[str, ...]:
    """
    Name the cameras of ``image_topics``: the given names, or each topic's last meaningful segment.

    ``/front/image_raw`` is ``front``; generic segments (image, image_raw, compressed, ...) are
    skipped. Names become topic segments (``<name>/classification``).

    :param topics: the image topics.
    :param names: the camera_names parameter (empty, or one per topic).
    :return: one name per topic.
    :raises ParameterError: for a length mismatch, and empty, invalid or duplicate names.
    """
    if names and len(names) != len(topics):
        raise ParameterError(f'parameter camera_names has {len(names)} names for '
                             f'{len(topics)} image_topics')
    if not names:
        derived = []
        for topic in topics:
            parts = [p for p in topic.split('/') if p]
            meaningful = [p for p in parts if p not in GENERIC_SEGMENTS]
            derived.append((meaningful or parts or [''])[-1])
        names = tuple(derived)
    bad = [n for n in names if not NAME_TOKEN.fullmatch(n)]
    if bad:
        raise ParameterError(f'camera names must be ROS name tokens (ASCII letters, digits and '
                             f'_, not starting with a digit): {", ".join(repr(n) for n in bad)}'
                             f'; set camera_names', 'camera_names')
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise ParameterError(f'camera names repeat: {", ".join(dups)} (from image_topics '
                             f'{", ".join(topics)}); set camera_names', 'camera_names')
    return tuple(names)


def apply_changes(settings: Settings,
                  changes: Iterable[Any]) -> Tuple[Optional[Settings], Optional[str]]:
    """
    Validate runtime parameter changes and return the settings with them applied.

    rclpy has already refused changes of read-only parameters and values outside a
    descriptor's range; this checks every rule again from the table (choices, integers for
    floats) so that the outcome does not depend on the rclpy version.

    :param settings: the current settings.
    :param changes: objects with ``name`` and ``value`` (rclpy ``Parameter``).
    :return: (new settings, None), or (None, the reason) when any change is refused; names not
        in the table (``use_sim_time``, QoS overrides) are left to rclpy.
    """
    updates = {}
    for param in changes:
        spec = SPECS.get(param.name)
        if spec is None:
            continue
        if not spec.runtime:
            return None, f'{spec.name} is read-only while the node runs'
        value, reason = check(spec, param.value)
        if reason:
            return None, reason
        updates[spec.name] = value
    return replace(settings, **updates), None


def as_dict(settings: Settings) -> Dict[str, Any]:
    """
    Read settings back as a dict.

    :param settings: the settings.
    :return: parameter name -> value.
    """
    return {f.name: getattr(settings, f.name) for f in fields(settings)}
