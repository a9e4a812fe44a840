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
The ``classifier`` and ``classifier_managed`` executables: one node, started and stopped cleanly.

Every way it ends is one line and an exit code: 0 after Ctrl-C or SIGTERM (also when they
arrive during start-up, or twice), 1 when the node cannot start, with the reason. The shutdown
is bounded: frames still inside the backend after a short wait are abandoned and counted.
"""

import os
import signal
import sys
import time
from typing import Callable, List, Optional

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from repvit_ros.managed import ManagedRepVitClassifier
from repvit_ros.memory import tune_allocator
from repvit_ros.node import RepVitClassifier, StartupError


# How long an error waits for a signal's context shutdown before it counts as a real error.
SIGNAL_GRACE_SEC = 1.0


def shutting_down(context, grace: float = SIGNAL_GRACE_SEC) -> bool:
    """
    Tell whether ``context`` is going down, waiting up to ``grace`` seconds for it.

    A signal reaches Python (as KeyboardInterrupt, raised inside whatever C call was running)
    before rclpy's signal handling has shut the context down on its own thread. Inside a pybind11
    conversion it surfaces as an unrelated RuntimeError ("Unable to convert call argument ...").
    Waiting briefly for the context tells such an error apart from a real one.
    """
    deadline = time.monotonic() + grace
    while context.ok():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def spin_until_shutdown(node: Node) -> None:
    """
    Spin ``node`` until Ctrl-C, SIGTERM or an rclpy shutdown.

    A signal shuts the context down from under a running executor, which may then raise
    something other than ExternalShutdownException (an invalid handle, a wait on a dead context,
    a KeyboardInterrupt turned into a RuntimeError inside a message conversion). Errors with
    which the context goes down are part of the shutdown; others propagate.
    """
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:  # noqa: B902 - re-raised unless the shutdown caused it
        if not shutting_down(node.context):
            raise


def main(args: Optional[List[str]] = None) -> int:
    """
    Run the classifier node until shutdown.

    :param args: command-line arguments (ROS arguments included).
    :return: process exit code: 0 on a normal shutdown, 1 when the node cannot start.
    """
    return run(RepVitClassifier, args)


def main_managed(args: Optional[List[str]] = None) -> int:
    """
    Run the managed (lifecycle) classifier node until shutdown.

    :param args: command-line arguments (ROS arguments included).
    :return: process exit code: 0 on a normal shutdown, 1 when the node cannot start.
    """
    return run(ManagedRepVitClassifier, args)


def run(make_node: Callable[[], Node], args: Optional[List[str]] = None) -> int:
    """
    Create a classifier node and spin it until shutdown; every outcome is one log line.

    :param make_node: the node class (or any callable making the node).
    :param args: command-line arguments (ROS arguments included).
    :return: process exit code: 0 on a normal shutdown, 1 when the node cannot start.
    """
    tune_allocator()
    rclpy.init(args=args)
    logger = rclpy.logging.get_logger('repvit_classifier')
    node, code = None, 0
    try:
        node = make_node()
        spin_until_shutdown(node)
    except StartupError as exc:
        logger.error(f'cannot start: {exc}')
        code = 1
    except rclpy.exceptions.ParameterException as exc:
        logger.error(f'cannot start: invalid parameter: {exc}')
        code = 1
    except KeyboardInterrupt:  # Ctrl-C while the node was still starting
        logger.info('stopped while starting')
    except Exception:  # noqa: B902 - a signal during start-up breaks rclpy calls half-way
        if not shutting_down(rclpy.get_default_context()):
            raise
        logger.info('stopped while starting')
    finally:
        # The shutdown is bounded (SHUTDOWN_TIMEOUT_SEC); a second Ctrl-C or SIGTERM, which
        # `ros2 launch` in a terminal always sends, must not break it half-way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    if node is not None and node.abandoned:
        # A worker is still inside the backend: its thread would hold the exit until done.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == '__main__':
    sys.exit(main())
