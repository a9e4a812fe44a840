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
The RepViT models: the registry, where their files are looked for, and their sha256 pins.

Reference figures are the RDK model zoo's RepViT table for the RDK X5 (one Bayes-e BPU at
1 GHz, 8x A55 at 1.8 GHz), so tools can print what the board is expected to do beside what
they measure. A file's sha256 is pinned in its directory the first time it is verified
(:mod:`repvit_ros.model_tools.download`, ``download_models``); a pinned file that changed is
refused when it is looked up. Nothing here loads a model: no backend is imported.
"""

from dataclasses import dataclass
import hashlib
import json
import os
import tempfile
from typing import Dict, List, Optional, Tuple

from repvit_ros.errors import StartupError

_ZOO = 'https://archive.d-robotics.cc/downloads/rdk_model_zoo/rdk_x5/'
PREINSTALLED_DIR = '/opt/hobot/model/x5/basic'
FORMATS = ('bin', 'onnx')
PINS_FILE = 'sha256.json'


@dataclass(frozen=True)
class CompileSettings:
    """
    How the zoo's RepViT .bin files were compiled by hb_mapper for the RDK X5.

    The one source of these constants: the ONNX backend emulates the BPU's input node with the
    same mean and scale, and the hb_mapper configs in ``models/`` (and those
    ``quantization_config`` writes for a user's model) are generated from this.
    """

    march: str = 'bayes-e'
    input_type_rt: str = 'nv12'
    input_type_train: str = 'rgb'
    input_layout_train: str = 'NCHW'
    norm_type: str = 'data_mean_and_scale'
    #: RGB channel order; the BPU computes (x - mean) * scale
    mean: Tuple[float, float, float] = (123.675, 116.28, 103.53)
    #: 1 / (255 * std) of ImageNet's RGB std 0.229 0.224 0.225
    scale: Tuple[float, float, float] = (0.01712475, 0.017507, 0.01742919)
    input_size: Tuple[int, int] = (224, 224)
    remove_node_type: str = 'Quantize;Dequantize;Transpose;Cast;Reshape'
    cal_data_dir: str = './calibration_data_rgb_f32'
    cal_data_type: str = 'float32'
    calibration_type: str = 'default'
    compile_mode: str = 'latency'
    optimize_level: str = 'O3'


COMPILE = CompileSettings()


class ModelError(StartupError):
    """A model that cannot be found, fetched, verified or loaded; the message says why."""


@dataclass(frozen=True)
class ModelInfo:
    """One RepViT size and the zoo's figures for it on the RDK X5."""

    name: str
    params: int              # deploy (fused) graph
    float_top1: float        # %, zoo protocol
    int8_top1: float         # %, BPU
    latency_1t_ms: float     # one thread
    latency_4t_ms: float     # four threads
    fps: float               # multi-thread throughput
    input_size: Tuple[int, int] = (224, 224)
    num_classes: int = 1000

    @property
    def bin_file(self) -> str:
        return self.output_prefix + '.bin'

    @property
    def onnx_file(self) -> str:
        return f'repvit_{self.name}_deploy.onnx'

    @property
    def output_prefix(self) -> str:
        """hb_mapper's ``output_model_file_prefix``: the .bin file name without ``.bin``."""
        return f'RepViT_{self.name}_{self.input_size[1]}x{self.input_size[0]}_nv12'

    @property
    def hb_mapper_config_file(self) -> str:
        """File name of this size's hb_mapper config in the package's ``models/`` folder."""
        return f'hb_mapper_{self.name}.yaml'

    def file(self, fmt: str) -> str:
        """File name of the model in format ``bin`` or ``onnx``."""
        return self.bin_file if fmt == 'bin' else self.onnx_file

    def url(self, fmt: str) -> str:
        """Download address of the model in format ``bin`` or ``onnx``."""
        return _ZOO + self.file(fmt)


MODELS: Dict[str, ModelInfo] = {m.name: m for m in (
    ModelInfo('m0_9', 5_067_056, 76.32, 75.75, 1.65, 4.37, 902.69),
    ModelInfo('m1_0', 6_810_312, 76.75, 76.50, 1.97, 5.71, 692.29),
    ModelInfo('m1_1', 8_244_312, 77.73, 77.50, 2.32, 6.69, 590.42),
)}


def get_model(name: str) -> ModelInfo:
    """
    Look up a model size.

    :param name: m0_9, m1_0 or m1_1.
    :return: its registry entry.
    :raises ModelError: for an unknown name.
    """
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f'unknown model {name!r}; one of {", ".join(MODELS)}') from None


def models_dir() -> str:
    """
    User-writable models directory.

    ``$REPVIT_MODELS_DIR``, else ``$ROS_HOME/repvit_ros/models`` (``~/.ros/...``).

    :return: the directory path (not created).
    """
    explicit = os.environ.get('REPVIT_MODELS_DIR')
    if explicit:
        return os.path.expanduser(explicit)
    ros_home = os.environ.get('ROS_HOME') or os.path.join(os.path.expanduser('~'), '.ros')
    return os.path.join(ros_home, 'repvit_ros', 'models')


def sha256_of(path: str) -> str:
    """
    Hash a file.

    :param path: the file.
    :return: its sha256 as hex.
    """
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _pins_path(directory: str) -> str:
    return os.path.join(directory, PINS_FILE)


def read_pins(directory: str) -> Dict[str, str]:
    """
    Read the sha256 pins recorded in a models directory.

    :param directory: the models directory.
    :return: file name -> sha256.
    """
    try:
        with open(_pins_path(directory), encoding='utf-8') as f:
            pins = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelError(f'unreadable pin file {_pins_path(directory)}: {exc}') from None
    return {str(k): str(v) for k, v in pins.items()}


def write_pins(directory: str, pins: Dict[str, str]) -> None:
    """
    Record sha256 pins in a models directory, replacing the file at once.

    :param directory: the models directory.
    :param pins: file name -> sha256.
    """
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.pins', suffix='.part')
    with os.fdopen(fd, 'w', encoding='utf-8') as f:
        json.dump(pins, f, indent=2, sort_keys=True)
        f.write('\n')
    os.replace(tmp, _pins_path(directory))


def check_pin(path: str) -> Optional[str]:
    """
    Refuse a model file whose content differs from the sha256 pinned for it.

    :param path: a model file; files in directories without pins pass.
    :return: the pinned sha256, or None when the file has no pin.
    :raises ModelError: when the file changed since it was pinned.
    """
    directory, name = os.path.split(os.path.abspath(path))
    pinned = read_pins(directory).get(name)
    if pinned is None:
        return None
    actual = sha256_of(path)
    if actual != pinned:
        raise ModelError(f'{path} changed since it was verified (sha256 {actual[:12]}..., pinned '
                         f'{pinned[:12]}...); delete it and download it again if the change is '
                         f'intended')
    return pinned


def candidate_paths(name: str, fmt: str, directory: Optional[str] = None) -> List[str]:
    """
    List where a model file is looked for, in order.

    :param name: model size.
    :param fmt: ``bin`` or ``onnx``.
    :param directory: models directory (default :func:`models_dir`).
    :return: paths, most preferred first.
    """
    info = get_model(name)
    paths = [os.path.join(directory or models_dir(), info.file(fmt))]
    if fmt == 'bin':
        paths.append(os.path.join(PREINSTALLED_DIR, info.bin_file))
    return paths


def resolve_model_path(name: str, explicit: str = '', formats=FORMATS,
                       directory: Optional[str] = None) -> str:
    """
    Find the model file to load.

    Order: the explicit path, then the models directory, then RDK OS's preinstalled .bin.

    :param name: model size (m0_9, m1_0, m1_1).
    :param explicit: a path that overrides the registry; must exist when given.
    :param formats: acceptable formats in order of preference.
    :param directory: models directory (default :func:`models_dir`).
    :return: an existing file path.
    :raises ModelError: when nothing is found; the message says how to get the file.
    """
    if explicit:
        path = os.path.expanduser(explicit)
        if os.path.isdir(path):
            raise ModelError(f'model file {path} is a directory, not a model file')
        if not os.path.isfile(path):
            raise ModelError(f'model file {path} does not exist')
        return path
    tried = []
    for fmt in formats:
        for path in candidate_paths(name, fmt, directory):
            if os.path.isfile(path):
                check_pin(path)
                return path
            tried.append(path)
    fmt = formats[0]
    raise ModelError(f'no {name} model file found (looked for {", ".join(tried)}); fetch one with '
                     f'`ros2 run repvit_ros download_models {name} --format {fmt}` or set '
                     f'model_path')
