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
The node under test: one in its own process, fed over real DDS; used by every bench tool.

:class:`NodeProcess` starts the classifier (or a reference server of
:mod:`repvit_ros.bench.servers`) and reads its CPU time and resident memory;
:func:`node_under_test` starts one with a :class:`~repvit_ros.bench.feeder.Feeder`, waits until
both directions are matched, and stops both whatever happens. Also here: the Fast DDS
large-frames profile, the classifier's parameters for a feeder, and the model a tool runs.
"""

import atexit
from contextlib import contextmanager
import os
import signal
import subprocess
import sys
import tempfile
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple
import weakref
from xml.etree import ElementTree

from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
import psutil
from repvit_ros import models
from repvit_ros.bench.feeder import Feeder
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import input_type_of
from repvit_ros.messages import make_message
from repvit_ros.model_tools.synthetic import write_model
from repvit_ros.pipeline import DROP_REASONS

NODE_KINDS = ('classifier', 'fixed', 'emulated', 'bare', 'bare_jpeg', 'serial', 'serial_emulated',
              'component_container', 'container', 'frame_source')
PACKAGE_SHARE_PROFILE = os.path.join('config', 'fastdds_large_frames.xml')
# The variable that names the Fast DDS XML profile depends on Fast DDS's major version. Fast DDS 2
# (Humble and Jazzy, rmw_fastrtps before 9) reads only the first; Fast DDS 3 (Kilted and newer,
# rmw_fastrtps 9) reads the second, and its rmw still reads the first but then warns in every
# process, a line in each output the tests read.
PROFILE_VARIABLES = ('FASTRTPS_DEFAULT_PROFILES_FILE', 'FASTDDS_DEFAULT_PROFILES_FILE')


def large_frames_profile() -> Optional[str]:
    """
    Locate the shipped Fast DDS profile with a 16 MB shared-memory segment.

    :return: its path (installed share/ first, then the source tree), or None.
    """
    candidates = []
    try:
        candidates.append(os.path.join(get_package_share_directory('repvit_ros'),
                                       PACKAGE_SHARE_PROFILE))
    except (PackageNotFoundError, ValueError, KeyError):  # not installed: the source tree
        pass
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    candidates.append(os.path.join(here, PACKAGE_SHARE_PROFILE))
    return next((c for c in candidates if os.path.isfile(c)), None)


def profile_variables(rmw_version: Optional[str] = None) -> Tuple[str, ...]:
    """
    Name the environment variable through which the installed Fast DDS reads its XML profile.

    :param rmw_version: rmw_fastrtps_shared_cpp's version; default: the installed one's.
    :return: that name alone; both names when no rmw_fastrtps is installed.
    """
    if rmw_version is None:
        rmw_version = _installed_version('rmw_fastrtps_shared_cpp')
    if not rmw_version:  # no Fast DDS here: nothing reads either name
        return PROFILE_VARIABLES
    fast_dds_3 = int(rmw_version.split('.')[0]) >= 9
    return (PROFILE_VARIABLES[1],) if fast_dds_3 else (PROFILE_VARIABLES[0],)


def _installed_version(package: str) -> Optional[str]:
    try:
        share = get_package_share_directory(package)
        return ElementTree.parse(os.path.join(share, 'package.xml')).findtext('version')
    except (PackageNotFoundError, ValueError, KeyError, OSError, ElementTree.ParseError):
        return None


def use_large_frames_profile(env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """
    Point Fast DDS at the large-frames profile in ``env`` (default: this process's environ).

    The profile is named by the one variable the installed Fast DDS reads (the other is
    removed). Call it before ``rclpy.init`` in this process; pass the result to child processes.

    :param env: the environment to change.
    :return: the environment.
    """
    env = os.environ if env is None else env
    profile = large_frames_profile()
    if profile:
        for name in PROFILE_VARIABLES:
            env.pop(name, None)
        env.update(dict.fromkeys(profile_variables(), profile))
    return env


def classifier_params(threads: int, msg_type: str = 'image', queue_size: int = 1,
                      model_path: str = '', backend: str = 'onnxruntime',
                      ns: str = '', depth: int = 0) -> Dict[str, Any]:
    """
    Build the ROS parameters of a classifier fed by a :class:`Feeder` (reliable input).

    :param threads: inference workers.
    :param msg_type: ``image`` or ``compressed``.
    :param queue_size: frames waiting for a worker.
    :param model_path: the model; empty leaves model and backend out (the ``fixed`` node).
    :param backend: the backend kind for ``model_path``.
    :param ns: the node's namespace, needed with ``depth``.
    :param depth: DDS history of the frame subscription (0: the node's default).
    :return: the parameters.
    """
    params: Dict[str, Any] = {'threads': threads, 'input_type': msg_type,
                              'qos_reliability': 'reliable', 'queue_size': queue_size}
    if model_path:
        params.update({'model_path': model_path, 'backend': backend})
    if depth:
        params[f'qos_overrides.{ns}/image.subscription.depth'] = depth
    return params


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


_LIVE: 'weakref.WeakSet[NodeProcess]' = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    # A tool that dies between start and stop must not leave nodes running behind it.
    for proc in list(_LIVE):
        if proc.alive():
            proc.proc.kill()


class ChildProcess:
    """
    A command in its own process, everything it prints (stdout and stderr) collected.

    :param cmd: the command and its arguments.
    :param env: its environment (None: this process's).
    :param cwd: its working directory.
    :param group: start it in a process group of its own, which :meth:`stop` signals whole
        (as Ctrl-C in a terminal does: a shell and what it started).
    """

    def __init__(self, cmd: List[str], env: Optional[Dict[str, str]] = None,
                 cwd: Optional[str] = None, group: bool = False):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, errors='replace', env=env, cwd=cwd,
                                     start_new_session=group)
        self._group = group
        self._lines: List[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.append(line)

    @property
    def output(self) -> str:
        """Everything the process printed so far."""
        return ''.join(self._lines)

    def alive(self) -> bool:
        """Tell whether the process still runs."""
        return self.proc.poll() is None

    def _signal(self, sig: int) -> None:
        try:
            if self._group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        except ProcessLookupError:
            pass

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
        """
        Send ``sig`` (to the group, if it has one) and wait for the exit; kill after ``timeout``.

        :param sig: the signal.
        :param timeout: seconds to wait.
        :return: the exit code (-9 when it had to be killed).
        """
        if self.alive():
            self._signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode


def checkout_env(checkout: str) -> Dict[str, str]:
    """Give the environment of a process that runs ``checkout``'s repvit_ros, not this one."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in (os.path.abspath(checkout),
                                                    env.get('PYTHONPATH', '')) if p)
    return env


class NodeProcess(ChildProcess):
    """
    One node in its own process, with its output collected and its CPU and memory readable.

    :param kind: ``classifier`` (the product), ``fixed`` (the same node on a backend that
        returns fixed logits at once: the node's own ceiling), ``emulated`` (the same node on a
        stand-in for the BPU: fixed logits after ``emulated_ms`` with the GIL released; see
        :mod:`repvit_ros.bench.servers`), ``bare`` (a plain rclpy
        subscriber that echoes each frame's header as an empty Classification: the Python-ROS
        limit), ``bare_jpeg`` (the same for JPEGs, decoding each at the node's reduced scale
        first), ``serial`` or ``serial_emulated`` (the node's per-frame work inside one
        subscription callback, on the ``fixed`` or ``emulated`` backend: its floor),
        ``component_container`` (the product's container, empty: nodes are loaded into it),
        ``container`` (the same, able to load the ``emulated`` node too) or ``frame_source``
        (the frame source node alone).
    :param ns: namespace; the node reads ``<ns>/image`` and writes ``<ns>/classification``.
    :param params: ROS parameters.
    :param env: environment of the process.
    """

    def __init__(self, kind: str, ns: str, params: Optional[Dict[str, Any]] = None,
                 env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None):
        if kind not in NODE_KINDS:
            raise ValueError(f'unknown node kind {kind!r}')
        self.kind = kind
        self.ns = ns
        module = {'classifier': 'repvit_ros.main',
                  'component_container': 'repvit_ros.container'}.get(kind)
        cmd = [sys.executable, '-m', module] if module else \
            [sys.executable, '-m', 'repvit_ros.bench.servers', kind]
        cmd += ['--ros-args', '-r', f'__ns:={ns}']
        for key, value in (params or {}).items():
            cmd += ['-p', f'{key}:={_param(value)}']
        super().__init__(cmd, env=env, cwd=cwd)
        self._ps = psutil.Process(self.proc.pid)
        _LIVE.add(self)

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process so far."""
        t = self._ps.cpu_times()
        return t.user + t.system

    def rss(self) -> int:
        """Resident memory in bytes."""
        return self._ps.memory_info().rss

    def pss(self) -> int:
        """
        Proportional resident memory in bytes: pages shared with other processes count in part.

        Several node processes share the interpreter's and libraries' pages, which each one's
        resident memory counts in full; their PSS adds up to what they take together (Linux).

        :return: the bytes (the resident memory where PSS cannot be read).
        """
        try:
            return self._ps.memory_full_info().pss
        except (AttributeError, psutil.AccessDenied):
            return self.rss()

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> int:
        """
        Send ``sig`` and wait for the exit; kill after ``timeout`` seconds.

        :param sig: the signal.
        :param timeout: seconds to wait.
        :return: the exit code (-9 when it had to be killed).
        """
        return super().stop(sig, timeout)


@contextmanager
def node_under_test(kind: str, ns: str, params: Optional[Dict[str, Any]] = None,
                    msg_type: str = 'image', depth: int = 10,
                    env: Optional[Dict[str, str]] = None,
                    node_name: str = 'repvit_classifier',
                    cwd: Optional[str] = None,
                    prime: bool = False) -> Iterator[Tuple[NodeProcess, Feeder]]:
    """
    Start a node in its own process and a feeder for it; wait until they are connected.

    The node is stopped with SIGINT on the way out (whatever happened inside); read its exit
    code afterwards with ``proc.stop()``, which returns it again.

    :param kind: see :class:`NodeProcess`.
    :param ns: the node's namespace.
    :param params: its ROS parameters.
    :param msg_type: the input type the feeder publishes.
    :param depth: the feeder's publisher history.
    :param env: the node's environment.
    :param node_name: the node's name (diagnostics are found by it).
    :param cwd: the node's working directory (``python -m`` finds ``repvit_ros`` there first).
    :param prime: also wait until a small frame comes back classified
        (:meth:`Feeder.prime`), for runs that count every result.
    :return: a context manager giving (process, feeder).
    """
    proc = NodeProcess(kind, ns, params, env, cwd)
    feeder: Optional[Feeder] = None
    try:
        feeder = Feeder(ns, msg_type, node_name=node_name, depth=depth)
        feeder.wait_ready(proc)
        if prime:
            feeder.prime(frames('jpeg' if msg_type == 'compressed' else 'bgr8', 64, 48, 1)[0])
        yield proc, feeder
    finally:
        if feeder is not None:
            feeder.close()
        proc.stop()


def model_file(name: str, directory: str = '') -> str:
    """
    Find the ONNX of ``name``, or build the synthetic one into a temporary directory.

    :param name: model size.
    :param directory: where to build synthetic models.
    :return: the path.
    """
    try:
        return models.resolve_model_path(name, formats=('onnx',))
    except models.ModelError:
        directory = directory or os.path.join(tempfile.gettempdir(), 'repvit_ros_synthetic')
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f'repvit_{name}_synthetic.onnx')
        if not os.path.exists(path):
            write_model(name, path)
        return path


def counts_between(before: Dict[str, str], after: Dict[str, str]) -> Dict[str, int]:
    """
    Turn two diagnostics readings of a node into what it counted in between.

    :param before: values from :meth:`Feeder.diagnostics` at the start.
    :param after: values at the end.
    :return: received, published, dropped (and dropped_<reason> per reason), bad and failed
        frames in between, and frames the transport reported lost before they reached the node.
    """
    keys = ('received', 'published', 'dropped', 'bad', 'failed', 'lost') + tuple(
        f'dropped_{reason}' for reason in DROP_REASONS)
    return {k: int(after.get(k, 0)) - int(before.get(k, 0)) for k in keys}


def frames(encoding: str, width: int, height: int, n: int = 4) -> List[Any]:
    """
    Build ``n`` different messages of one encoding and size (stamps are set when sent).

    :param encoding: a raw encoding, or ``jpeg``/``png`` (CompressedImage).
    :param width: columns.
    :param height: rows.
    :param n: how many different pictures.
    :return: the messages.
    """
    kind = input_type_of(encoding)
    return [make_message(kind, sample_picture(width, height, s), encoding, 0) for s in range(n)]
