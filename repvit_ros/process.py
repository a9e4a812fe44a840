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
How a node process spins and ends: shared by the classifier executables and the container.

Light on purpose (rclpy only): the component container imports it before it knows which
nodes it will load.
"""

from contextlib import contextmanager
import os
import re
import signal
import sys
import time
from typing import Any, Callable, Iterator, List, Optional

import rclpy
from rclpy.exceptions import NameValidationException, ParameterException
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.logging import LoggingSeverity
from rclpy.node import Node
from rclpy.signals import uninstall_signal_handlers
from repvit_ros.errors import StartupError
from repvit_ros.executor import FrameExecutor

#: Set to 0 to spin the node on rclpy's own executor instead of FrameExecutor (issue 28).
FRAME_EXECUTOR_VARIABLE = 'REPVIT_FRAME_EXECUTOR'

#: rcl's error type (a node name or namespace it refuses, a call a signal broke half-way)
RCLError = _rclpy.RCLError

# How long an error waits for a signal's context shutdown before it counts as a real error.
SIGNAL_GRACE_SEC = 1.0


def init(args: Optional[List[str]]) -> Optional[str]:
    """
    Start rclpy with a command line; say in one line why, when rcl refuses it.

    A bad ``-r`` remap rule, a missing or broken ``--params-file``, an unknown ``--ros-args``
    flag: rclpy raises with rcl's message and its source positions, and rcl logs a line of its
    own first, which is silenced here for the moment of parsing.

    :param args: the command line (None: the process's).
    :return: None when rclpy is up, else the reason.
    """
    rclpy.logging.set_logger_level('rcl', LoggingSeverity.FATAL)
    try:
        rclpy.init(args=args)
    except RuntimeError as exc:  # rcl's RCLError, UnknownROSArgsError
        return command_line_problem(exc)
    finally:
        rclpy.logging.set_logger_level('rcl', LoggingSeverity.UNSET)
    return None


@contextmanager
def starting(logger: Any, cleanup: Callable[[], None]) -> Iterator[List[int]]:
    """
    Run an executable's node from start to shutdown; every way it ends is one log line.

    Use: ``with starting(logger, cleanup) as code: ...make and spin the node...``, then exit
    with ``code[0]``. A start-up error (:class:`~repvit_ros.errors.StartupError`, an invalid
    parameter, a bad node name or namespace) is logged as ``cannot start: ...`` with code 1;
    Ctrl-C or a signal's shutdown while starting as ``stopped while starting``; anything else
    propagates. Whatever happened, the process takes no more signals (the shutdown is bounded:
    :func:`end_signal_handling`), then ``cleanup`` runs and rclpy shuts down. ``cleanup`` is
    where the process's executor is shut down: not before, see :func:`end_signal_handling`.

    :param logger: where the line goes.
    :param cleanup: stops and destroys what the body made.
    :return: a context manager giving the exit code holder (``[0]``).
    """
    code = [0]
    try:
        yield code
    except StartupError as exc:
        logger.error(f'cannot start: {exc}')
        code[0] = 1
    except ParameterException as exc:
        logger.error(f'cannot start: invalid parameter: {exc}')
        code[0] = 1
    except (NameValidationException, RCLError) as exc:  # a node name or namespace remapped
        if shutting_down(rclpy.get_default_context()):  # or a signal broke rcl calls half-way
            logger.info('stopped while starting')
        else:
            logger.error(f'cannot start: {command_line_problem(exc)}')
            code[0] = 1
    except KeyboardInterrupt:  # Ctrl-C while the node was still starting
        logger.info('stopped while starting')
    except Exception:  # noqa: B902 - a signal during start-up breaks rclpy calls half-way
        if not shutting_down(rclpy.get_default_context()):
            raise
        logger.info('stopped while starting')
    finally:
        end_signal_handling()  # the shutdown is bounded (SHUTDOWN_TIMEOUT_SEC)
        cleanup()
        rclpy.try_shutdown()


def command_line_problem(exc: Exception) -> str:
    """
    Turn rclpy's error about a command line or a name into one line for the user.

    :param exc: what rclpy raised (rcl's message, or a name validation's three lines).
    :return: the line.
    """
    if type(exc).__name__ == 'UnknownROSArgsError':
        return f'unknown ROS arguments: {exc}'
    if isinstance(exc, NameValidationException):
        lines = str(exc).splitlines()
        return f'{lines[0].rstrip(":")}: {lines[1].strip()}' if len(lines) > 1 else lines[0]
    return without_sources(str(exc).replace('failed to initialize rcl: ', '', 1))


def without_sources(text: str) -> str:
    """
    Drop the C source positions rcl appends to its messages (``, at /src/rcl/x.c:102``).

    :param text: rcl's message.
    :return: the message for a user.
    """
    return re.sub(r', at [^,]+:\d+', '', text).strip()


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


def spin_until_shutdown(node: Node, executor: Executor) -> None:
    """
    Spin ``node`` until Ctrl-C, SIGTERM or an rclpy shutdown.

    A signal shuts the context down from under a running executor, which may then raise
    something other than ExternalShutdownException (an invalid handle, a wait on a dead context,
    a KeyboardInterrupt turned into a RuntimeError inside a message conversion). Errors with
    which the context goes down are part of the shutdown; others propagate.

    :param node: the node; its context tells a shutdown from an error.
    :param executor: an executor that has the node (and maybe others; :func:`executor_for`
        gives a node's own), which the caller shuts down; a process shuts it down only after
        :func:`end_signal_handling`.
    """
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:  # noqa: B902 - re-raised unless the shutdown caused it
        if not shutting_down(node.context):
            raise


def executor_for(node: Node) -> Executor:
    """
    Give the executor a node spins on alone: FrameExecutor, unless told or unable.

    rclpy's SingleThreadedExecutor with ``REPVIT_FRAME_EXECUTOR=0`` in the environment, or when
    this rclpy lacks what FrameExecutor relies on (said in one warning).

    :param node: the node (its context and logger).
    :return: the executor, without the node.
    """
    if os.environ.get(FRAME_EXECUTOR_VARIABLE, '1') != '0':
        executor = FrameExecutor(context=node.context)
        missing = executor.missing()
        if not missing:
            return executor
        executor.shutdown(0)
        node.get_logger().warning(
            f'this rclpy has no {missing}, which FrameExecutor relies on: spinning on the '
            f'SingleThreadedExecutor of rclpy (about 10-20 % more CPU per camera frame)')
    return SingleThreadedExecutor(context=node.context)


def end_signal_handling() -> None:
    """
    From here on the process takes no signal; after this its executors may be shut down.

    rclpy handles a signal on a thread of its own, which triggers every executor's signal guard
    condition from a list it reads without a lock. An executor shut down meanwhile destroys
    its guard condition and frees that list: a thread scheduled late then walks freed memory
    and the process dies of a segmentation fault instead of stopping (about 1 stop in 10 on a
    loaded machine, after one Ctrl-C or the two `ros2 launch` sends, on rclpy's executors as on
    FrameExecutor). So: ignore SIGINT and SIGTERM (no new signal reaches rclpy), then
    end rclpy's signal handling, which waits for that thread to finish the signal it is on,
    then ignore them again (Humble's ``uninstall_signal_handlers`` puts back the SIGTERM
    handler it replaced).
    """
    ignore_further_signals()
    uninstall_signal_handlers()
    ignore_further_signals()


def ignore_further_signals() -> None:
    """
    Let a bounded shutdown run to its end: ignore Ctrl-C and SIGTERM from now on.

    ``ros2 launch`` in a terminal always sends a second Ctrl-C or SIGTERM; it must not break the
    shutdown half-way. That second signal may come while ignoring is being installed: Python
    3.12's ``signal.signal`` is a Python function, so the pending Ctrl-C raises inside it (Jazzy's
    CI leg: a traceback and exit -2 instead of a clean stop); it is swallowed and the install
    done again.
    """
    while True:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            return
        except KeyboardInterrupt:
            continue


def leave(code: int, stuck: bool) -> int:
    """
    End the process at once when a thread is still stuck in work it was given up on.

    A worker abandoned inside a backend (or a callback still running after the bound) would hold
    the interpreter's exit until it ends.

    :param code: the exit code.
    :param stuck: whether such a thread exists.
    :return: ``code``, when the process may end normally.
    """
    if stuck:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
