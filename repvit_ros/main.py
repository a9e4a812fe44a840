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

import sys
from typing import Callable, List, Optional
import warnings

import rclpy
from rclpy.node import Node
from repvit_ros.managed import ManagedRepVitClassifier
from repvit_ros.memory import tune_allocator
from repvit_ros.node import RepVitClassifier
from repvit_ros.process import (executor_for, init, leave, shutting_down, SIGNAL_GRACE_SEC,
                                spin_until_shutdown, starting)

__all__ = ['main', 'main_managed', 'run', 'shutting_down', 'SIGNAL_GRACE_SEC',
           'spin_until_shutdown']


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
    logger = rclpy.logging.get_logger('repvit_classifier')
    problem = init(args)
    if problem:
        logger.error(f'cannot start: {problem}')
        return 1
    node = executor = None

    def cleanup() -> None:  # signals are over (starting): the executor may go first
        if executor is not None:
            executor.shutdown(0)
        if node is not None:
            node.destroy_node()

    with starting(logger, cleanup) as code:
        with warnings.catch_warnings():  # rclpy's own line about a node it could not make
            warnings.filterwarnings('ignore', 'Failed to fini rosout publisher')
            node = make_node()
        executor = executor_for(node)
        executor.add_node(node)
        spin_until_shutdown(node, executor)
    # A worker still inside the backend would hold the exit until its inference ends.
    return leave(code[0], node is not None and node.abandoned > 0)


if __name__ == '__main__':
    sys.exit(main())
