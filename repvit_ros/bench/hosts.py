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
A camera on one host and the classifier on another, both on this machine.

:class:`TwoHosts` makes two network namespaces joined by a veth pair (each with its own address
and a multicast route for DDS discovery), so DDS between them goes over UDP as between two
computers of a robot: nothing crosses through shared memory. :func:`measure` starts the
classifier in one and a camera in the other that publishes frames at a fixed rate and times
each result by its stamp on the way back; the table tells which QoS and profile to use between
hosts. Needs root (``ip netns``). As a command: ``python -m repvit_ros.bench.hosts``.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional

import numpy as np
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from repvit_ros.bench.harness import model_file, PROFILE_VARIABLES, use_large_frames_profile
from repvit_ros.bench.pictures import sample_picture
from repvit_ros.frames import message_class
from repvit_ros.layouts import encode
from repvit_ros.messages import make_message
from vision_msgs.msg import Classification

SUBNET = '10.231.{}.{}'
RESULT_LINE = 'hosts-camera:'


def unavailable() -> Optional[str]:
    """
    Tell why two hosts cannot be made here.

    :return: the reason, or None when they can.
    """
    if os.geteuid() != 0:
        return 'network namespaces need root'
    if shutil.which('ip') is None:
        return 'the ip command (iproute2) is missing'
    return None


def _ip(*args: str) -> None:
    subprocess.run(['ip', *args], check=True, capture_output=True, text=True)


class TwoHosts:
    """
    Two network namespaces, ``camera`` and ``node``, joined by a veth pair.

    :param tag: a short distinguishing tag (namespace and interface names are derived from it).
    :param subnet: the third byte of the 10.231.x.0/24 link.
    """

    def __init__(self, tag: str = '', subnet: int = 0):
        tag = tag or str(os.getpid() % 100000)
        self.names = {'camera': f'rvc{tag}', 'node': f'rvn{tag}'}
        self._links = {'camera': f'rvc{tag}v', 'node': f'rvn{tag}v'}
        self.addresses = {'camera': SUBNET.format(subnet, 1), 'node': SUBNET.format(subnet, 2)}

    def __enter__(self) -> 'TwoHosts':
        self.close()  # leftovers of a run that was killed
        try:
            for host in ('camera', 'node'):
                _ip('netns', 'add', self.names[host])
            _ip('link', 'add', self._links['camera'], 'type', 'veth', 'peer', 'name',
                self._links['node'])
            for host in ('camera', 'node'):
                ns, link = self.names[host], self._links[host]
                _ip('link', 'set', link, 'netns', ns)
                _ip('-n', ns, 'addr', 'add', f'{self.addresses[host]}/24', 'dev', link)
                _ip('-n', ns, 'link', 'set', link, 'up')
                _ip('-n', ns, 'link', 'set', 'lo', 'up')
                _ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', link)  # DDS discovery
        except subprocess.CalledProcessError as exc:
            self.close()
            raise RuntimeError(f'cannot make two hosts: {exc.stderr.strip()}') from None
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Delete both namespaces (the veth pair goes with them)."""
        for ns in self.names.values():
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)

    def bytes_sent(self, host: str) -> int:
        """Count the bytes a host sent over the link (so far)."""
        out = subprocess.run(['ip', '-n', self.names[host], '-s', '-j', 'link', 'show',
                              self._links[host]], check=True, capture_output=True, text=True)
        return int(json.loads(out.stdout)[0]['stats64']['tx']['bytes'])

    def start(self, host: str, argv: List[str], env: Dict[str, str]) -> subprocess.Popen:
        """
        Start a process on a host.

        :param host: ``camera`` or ``node``.
        :param argv: the command.
        :param env: its environment.
        :return: the process (output collected).
        """
        return subprocess.Popen(['ip', 'netns', 'exec', self.names[host], *argv], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def host_env(profile: bool = True) -> Dict[str, str]:
    """
    Give the environment of a process on one of the hosts: DDS beyond localhost.

    :param profile: use the shipped large-frames profile (as docs/cameras.md tells cameras to).
    :return: the environment.
    """
    env = dict(os.environ)
    env.pop('ROS_LOCALHOST_ONLY', None)  # Humble: discovery on every interface
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'SUBNET'  # Jazzy and newer
    for var in PROFILE_VARIABLES:
        env.pop(var, None)
    if profile:
        use_large_frames_profile(env)
    return env


def measure(hosts: TwoHosts, model_path: str, encoding: str = 'bgr8',
            reliability: str = 'reliable', rate: float = 30.0, seconds: float = 6.0,
            width: int = 640, height: int = 480, profile: bool = True) -> Dict[str, object]:
    """
    Classify a camera on the other host for a while; count and time what comes back.

    :param hosts: the two hosts.
    :param model_path: the model the classifier loads.
    :param encoding: the camera's encoding (``jpeg``: CompressedImage).
    :param reliability: the camera's QoS reliability (the node matches it: auto).
    :param rate: frames per second.
    :param seconds: how long the camera publishes.
    :param width: frame width.
    :param height: frame height.
    :param profile: both hosts use the shipped large-frames profile.
    :return: sent, received by the node, lost before it, results, latency percentiles (ms),
        bytes the camera host sent.
    """
    env = host_env(profile)
    input_type = 'compressed' if encoding in ('jpeg', 'png') else 'image'
    node = hosts.start('node', [sys.executable, '-m', 'repvit_ros.main', '--ros-args',
                                '-r', '__ns:=/far', '-p', f'model_path:={model_path}',
                                '-p', f'input_type:={input_type}'], env)
    lines: List[str] = []
    reader = threading.Thread(target=lambda: lines.extend(node.stdout), daemon=True)
    reader.start()
    before = hosts.bytes_sent('camera')
    camera = hosts.start('camera', [
        sys.executable, '-m', 'repvit_ros.bench.hosts', 'camera', '--encoding', encoding,
        '--reliability', reliability, '--rate', str(rate), '--seconds', str(seconds),
        '--width', str(width), '--height', str(height)], env)
    out, _ = camera.communicate(timeout=seconds + 120)
    sent_bytes = hosts.bytes_sent('camera') - before
    node.send_signal(subprocess.signal.SIGINT)
    try:
        node.wait(30)
    except subprocess.TimeoutExpired:
        node.kill()
        node.wait()
    reader.join(5)
    log = ''.join(lines)
    found = [ln for ln in out.splitlines() if ln.startswith(RESULT_LINE)]
    if not found:
        raise RuntimeError(f'the camera reported nothing:\n{out}\n--- node:\n{log}')
    report = json.loads(found[-1][len(RESULT_LINE):])
    stop = re.search(r'frames received (\d+).*lost before the node (\d+)', log)
    report.update(received=int(stop.group(1)) if stop else None,
                  lost_before_node=int(stop.group(2)) if stop else None,
                  camera_bytes=sent_bytes, encoding=encoding, reliability=reliability,
                  profile=profile, node_log_tail=log[-2000:])
    return report


def _camera(args: argparse.Namespace) -> int:
    """Publish frames, collect the results by stamp, print one JSON line."""
    rclpy.init()
    node = rclpy.create_node('hosts_camera')
    msg_type = 'compressed' if args.encoding in ('jpeg', 'png') else 'image'
    pub = node.create_publisher(message_class(msg_type), '/far/image', QoSProfile(
        depth=5, reliability=ReliabilityPolicy.RELIABLE if args.reliability == 'reliable'
        else ReliabilityPolicy.BEST_EFFORT))
    arrivals: Dict[int, float] = {}
    node.create_subscription(
        Classification, '/far/classification',
        lambda m: arrivals.setdefault(m.header.stamp.sec * 10**9 + m.header.stamp.nanosec,
                                      time.time()),
        QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
    deadline = time.monotonic() + 60
    while (pub.get_subscription_count() == 0 or node.count_publishers(
            '/far/classification') == 0) and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    matched = pub.get_subscription_count() > 0
    pictures = [sample_picture(args.width, args.height, s) for s in range(4)]
    payloads = [encode(p, args.encoding) for p in pictures]
    stamps: List[int] = []
    period, start = 1.0 / args.rate, time.monotonic()
    while matched and time.monotonic() - start < args.seconds:
        i = len(stamps)
        stamp = time.time_ns()
        pub.publish(make_message(msg_type, pictures[i % 4], args.encoding, stamp,
                                 data=payloads[i % 4]))
        stamps.append(stamp)
        while time.monotonic() < start + (i + 1) * period:
            rclpy.spin_once(node, timeout_sec=max(0.0, start + (i + 1) * period -
                                                  time.monotonic()))
    end = time.monotonic() + 3.0  # results still on their way
    while time.monotonic() < end and len(arrivals) < len(stamps):
        rclpy.spin_once(node, timeout_sec=0.05)
    latencies = np.array([1e3 * (arrivals[s] - s / 1e9) for s in stamps if s in arrivals])
    report = {'matched': matched, 'sent': len(stamps), 'results': int(latencies.size)}
    if latencies.size:
        report.update({f'latency_p{p}_ms': round(float(np.percentile(latencies, p)), 1)
                       for p in (50, 90, 99)})
    print(RESULT_LINE + json.dumps(report), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


def _table(rows: List[Dict[str, object]]) -> str:
    head = '| frames | QoS | profile | sent | reached the node | results | p50 ms | p90 ms |' \
           ' p99 ms | MB sent |\n|---|---|---|---|---|---|---|---|---|---|'
    body = [f'| {r["encoding"]} | {r["reliability"]} | {"shipped" if r["profile"] else "none"} '
            f'| {r["sent"]} | {r["received"]} '
            f'({100 * (r["received"] or 0) / max(1, r["sent"]):.0f} %) | {r["results"]} | '
            f'{r.get("latency_p50_ms", "-")} | '
            f'{r.get("latency_p90_ms", "-")} | {r.get("latency_p99_ms", "-")} | '
            f'{r["camera_bytes"] / 1e6:.0f} |' for r in rows]
    return '\n'.join([head] + body)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the camera side, or the whole measurement with its table."""
    parser = argparse.ArgumentParser(prog='hosts', description=__doc__.split('\n\n')[1])
    parser.add_argument('role', nargs='?', default='measure', choices=('measure', 'camera'))
    parser.add_argument('--encoding', default='bgr8')
    parser.add_argument('--reliability', default='reliable',
                        choices=('reliable', 'best_effort'))
    parser.add_argument('--rate', type=float, default=30.0)
    parser.add_argument('--seconds', type=float, default=6.0)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args(argv)
    if args.role == 'camera':
        return _camera(args)
    reason = unavailable()
    if reason:
        print(f'hosts: {reason}', file=sys.stderr)
        return 1
    model = model_file('m1_0')
    rows = []
    with TwoHosts() as hosts:
        for encoding in ('bgr8', 'jpeg'):
            for reliability in ('reliable', 'best_effort'):
                row = measure(hosts, model, encoding, reliability, args.rate, args.seconds,
                              args.width, args.height)
                row.pop('node_log_tail')
                rows.append(row)
    print(json.dumps(rows, indent=1) if args.json else _table(rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
