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
The ``component_container`` executable: rclpy nodes composed into one process at runtime.

rclpy has no component container (ros2/rclpy#575). This one is a node that serves the three
standard services of composition_interfaces, ``~/_container/load_node``, ``unload_node`` and
``list_nodes``, so launch_ros's ``ComposableNodeContainer`` and ``LoadComposableNodes`` and
``ros2 component load|list|unload`` drive it as they drive rclcpp_components' container.

It loads the Python node classes that packages register in the entry-point group
:data:`ENTRY_POINT_GROUP` of their setup.py, ``'<plugin name> = <module>:<class>'``; a load
request's ``package_name`` is the registering package, ``plugin_name`` the entry's name. The
class is called as rclpy.node.Node is (it forwards ``**kwargs`` to Node) with what a
standalone node gets from its command line, as rclcpp_components builds it: ``--ros-args``
with the request's remap rules, ``__node``/``__ns`` for a given name and namespace, the
request's parameters as overrides, and none of the container's own arguments. The request's
log level is set on the node's logger before the node exists.

All nodes run on one :class:`ComponentExecutor`: a pool of threads, so a node's slow callback
stalls no other node. Unloading a node takes it off the executor, waits (bounded) until none
of its callbacks runs, then destroys it with its own ``destroy_node``. Ctrl-C or SIGTERM
destroys every node the same way, all at once, so the shutdown takes as long as the slowest.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import importlib.metadata
import inspect
import os
import re
import sys
import threading
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple
import weakref

from ament_index_python import has_resource
from composition_interfaces.srv import ListNodes, LoadNode, UnloadNode
from rcl_interfaces.msg import IntegerRange, ParameterDescriptor
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.context import Context
from rclpy.exceptions import InvalidHandle, ParameterException
from rclpy.executors import (ConditionReachedException, Executor, ExternalShutdownException,
                             ShutdownException, TimeoutException)
from rclpy.logging import LoggingSeverity
from rclpy.node import Node
from rclpy.parameter import Parameter
from repvit_ros.memory import tune_allocator
from repvit_ros.process import init, leave, spin_until_shutdown, starting

#: The entry-point group in which packages register their rclpy node classes.
ENTRY_POINT_GROUP = 'rclpy_components'
#: The container node's default name (rclcpp_components' container has the same).
CONTAINER_NAME = 'ComponentManager'
#: Seconds a node's running callbacks get to end when it leaves the executor; then (and at
#: shutdown) it is destroyed, and the process exits at once if a callback still runs.
RETIRE_TIMEOUT_SEC = 1.5
#: rcl_interfaces/msg/Log levels (the LoadNode request's log_level), by name.
LOG_LEVELS = {'debug': LoggingSeverity.DEBUG, 'info': LoggingSeverity.INFO,
              'warn': LoggingSeverity.WARN, 'warning': LoggingSeverity.WARN,
              'error': LoggingSeverity.ERROR, 'fatal': LoggingSeverity.FATAL}
_ARRAYS = (Parameter.Type.BYTE_ARRAY, Parameter.Type.BOOL_ARRAY, Parameter.Type.INTEGER_ARRAY,
           Parameter.Type.DOUBLE_ARRAY, Parameter.Type.STRING_ARRAY)


class LoadError(Exception):
    """A load request that names no loadable node class, or that the container cannot honour."""


# Exceptions whose message is the whole story of a failed load; others get their traceback.
_EXPLAINED = (LoadError, RuntimeError, ValueError, OSError, ParameterException)


# ---------------------------------------------------------------------------- registry
def _normalized(package: str) -> str:
    return re.sub(r'[-_.]+', '_', package).lower()


def registered_components() -> Dict[str, Dict[str, importlib.metadata.EntryPoint]]:
    """
    Read the node classes that installed packages register in :data:`ENTRY_POINT_GROUP`.

    :return: package name -> plugin name -> entry point (the first one installed wins).
    """
    found: Dict[str, Dict[str, importlib.metadata.EntryPoint]] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(entry, 'dist', None)
        package = dist.metadata['Name'] if dist is not None else entry.name.split('::')[0]
        found.setdefault(_normalized(package), {}).setdefault(entry.name, entry)
    return found


def find_component(package: str, plugin: str) -> Callable[..., Node]:
    """
    Import the node class that ``package`` registers as ``plugin``.

    :param package: the registering package (its ROS package name).
    :param plugin: the plugin name, e.g. ``repvit_ros::RepVitClassifier``.
    :return: the class (or any callable making an rclpy node).
    :raises LoadError: naming what is registered instead, or why the import failed.
    """
    plugins = registered_components().get(_normalized(package))
    if plugins is None:
        if package and has_resource('rclcpp_components', package):
            raise LoadError(f"package '{package}' registers C++ components only: this "
                            "container loads Python nodes; use rclcpp_components' "
                            'component_container for those')
        raise LoadError(f"no package '{package}' registers Python nodes (entry-point group "
                        f"'{ENTRY_POINT_GROUP}')")
    entry = plugins.get(plugin)
    if entry is None:
        raise LoadError(f"package '{package}' registers no plugin '{plugin}'; it registers: "
                        f'{", ".join(sorted(plugins))}')
    try:
        factory = entry.load()
    except Exception as exc:  # noqa: B902 - any import error is the load's answer
        raise LoadError(f"cannot import {entry.value} ('{plugin}'): "
                        f'{type(exc).__name__}: {exc}') from exc
    if not callable(factory):
        raise LoadError(f"'{plugin}' ({entry.value}) is not a node class")
    return factory


# ---------------------------------------------------------------------------- requests
def parameter_override(msg: Any) -> Parameter:
    """
    Turn a request's rcl_interfaces/Parameter into the override a standalone node gets.

    An empty list has no type in a params file: rcl hands it to a standalone node as NOT_SET,
    and the node gives it its declared type. A load request types it all the same (launch_ros
    and ``ros2 component load`` both make ``[]`` a byte or bool array), so an empty array is
    handed over as NOT_SET too.

    :param msg: the rcl_interfaces/msg/Parameter.
    :return: the override.
    """
    param = Parameter.from_parameter_msg(msg)
    if param.type_ in _ARRAYS and len(param.value) == 0:
        return Parameter(param.name, Parameter.Type.NOT_SET, None)
    return param


def log_level(value: Any) -> LoggingSeverity:
    """
    Read a log level: a name (``debug`` ... ``fatal``) or an rcl_interfaces/Log value.

    :param value: the level.
    :return: the severity.
    :raises LoadError: for anything else.
    """
    try:
        if isinstance(value, str) and not value.isdigit():
            return LOG_LEVELS[value.lower()]
        level = LoggingSeverity(int(value))
        if level != LoggingSeverity.UNSET:
            return level
    except (KeyError, ValueError):
        pass
    raise LoadError(f'log level {value!r}: expected one of debug, info, warn, error, fatal '
                    '(or 10, 20, 30, 40, 50)')


def _extra(param: Parameter, kind: type) -> Any:
    if type(param.value) is not kind:
        raise LoadError(f"extra argument '{param.name}' must be a "
                        f'{"boolean" if kind is bool else "string"}')
    return param.value


@dataclass
class NodeOptions:
    """What a load request gives the node class, and what the container warns about."""

    #: keyword arguments of the node class (rclpy.node.Node's)
    kwargs: Dict[str, Any]
    #: the node's log level, None to leave it alone
    level: Optional[LoggingSeverity]
    warnings: List[str]

    @classmethod
    def from_request(cls, request: Any) -> 'NodeOptions':
        """
        Build the options of a LoadNode request.

        Remap rules, ``node_name`` and ``node_namespace`` become the node's own command-line
        arguments, in rclcpp_components' order (the rules first: a ``__node`` rule among them
        wins); parameters become overrides (:func:`parameter_override`). ``extra_arguments``
        this container knows: ``use_intra_process_comms`` (rclpy has none: a warning when
        true), ``forward_global_arguments`` (the container's own ROS arguments apply to the
        node too; off by default, as in rclcpp_components), ``params_file`` (read by rcl for
        the node as ``--params-file``: wildcards and ``[]`` as a standalone node reads them;
        the request's parameters win over it) and ``log_level`` (for launch files:
        launch_ros does not fill the request's field). Others are ignored with a warning.

        :param request: the composition_interfaces/srv/LoadNode request.
        :return: the options.
        :raises LoadError: for an extra argument of the wrong type or a bad log level.
        """
        args = ['--ros-args']
        for rule in request.remap_rules:
            args += ['-r', rule]
        if request.node_name:
            args += ['-r', f'__node:={request.node_name}']
        if request.node_namespace:
            args += ['-r', f'__ns:={request.node_namespace}']
        level = log_level(request.log_level) if request.log_level else None
        use_global, warnings = False, []
        for msg in request.extra_arguments:
            extra = Parameter.from_parameter_msg(msg)
            if extra.name == 'use_intra_process_comms':
                if _extra(extra, bool):
                    warnings.append('use_intra_process_comms is not available in rclpy: the '
                                    "node's messages go through the middleware as between "
                                    'processes (shared memory on one host)')
            elif extra.name == 'forward_global_arguments':
                use_global = _extra(extra, bool)
                if use_global:
                    warnings.append("forward_global_arguments: the container's own ROS "
                                    'arguments (remaps, parameters) apply to this node too')
            elif extra.name == 'params_file':
                args += ['--params-file', _extra(extra, str)]
            elif extra.name == 'log_level':
                level = log_level(extra.value)
            else:
                warnings.append(f"extra argument '{extra.name}' is not one this container "
                                'knows: ignored')
        kwargs = {'cli_args': args, 'use_global_arguments': use_global,
                  'parameter_overrides': [parameter_override(p) for p in request.parameters]}
        return cls(kwargs, level, warnings)


def logger_name(name: str, namespace: str) -> str:
    """
    Give the logger name rcl gives a node: its namespace and name joined by dots.

    :param name: the node's name.
    :param namespace: its namespace (relative ones count from the root).
    :return: e.g. ``repvit.repvit_classifier`` for ``/repvit/repvit_classifier``.
    """
    parts = [p for p in namespace.split('/') if p] + [name]
    return '.'.join(parts)


def expected_logger(factory: Callable[..., Node], request: Any) -> Optional[str]:
    """
    Foresee the logger name of the node a request makes, to set its level before it logs.

    :param factory: the node class.
    :param request: the LoadNode request.
    :return: the name, or None when the class's default name cannot be read.
    """
    name, namespace = request.node_name, request.node_namespace
    for rule in request.remap_rules:  # the first rule of each wins in rcl, and comes first
        source, _, target = rule.partition(':=')
        if source == '__node' and name == request.node_name:
            name = target
        elif source == '__ns' and namespace == request.node_namespace:
            namespace = target
    if not name:
        try:
            params = list(inspect.signature(factory).parameters.values())
        except (TypeError, ValueError):
            return None
        if not params or not isinstance(params[0].default, str):
            return None
        name = params[0].default
    return logger_name(name, namespace)


def create_node(factory: Callable[..., Node], kwargs: Dict[str, Any]) -> Node:
    """
    Make a node; when its constructor fails, destroy what it had made already.

    A constructor that raises after rclpy.node.Node's leaves a node in the ROS graph (and its
    services) that nobody holds: the instance is made first, so it can be destroyed.

    :param factory: the node class (or any callable making a node).
    :param kwargs: its keyword arguments.
    :return: the node.
    :raises LoadError: when the result is not an rclpy node.
    """
    if isinstance(factory, type):
        node = factory.__new__(factory)
        try:
            node.__init__(**kwargs)
        except BaseException:
            _discard(node)
            raise
    else:
        node = factory(**kwargs)
    if not isinstance(node, Node):
        _discard(node)
        raise LoadError(f'{factory!r} made a {type(node).__name__}, not an rclpy node')
    return node


def _discard(node: Any) -> None:
    for destroy in (getattr(node, 'destroy_node', None), lambda: Node.destroy_node(node)):
        try:
            destroy()
            return
        except Exception:  # noqa: B902 - half-built: whatever exists is released
            continue


# ---------------------------------------------------------------------------- executor
class ComponentExecutor(Executor):
    """
    Run the callbacks of every node in a pool of threads, knowing whose each one is.

    rclpy's MultiThreadedExecutor, built the way rclpy documents for a custom executor (on
    :meth:`~rclpy.executors.Executor.wait_for_ready_callbacks`), plus :meth:`retire`: a node
    leaves only once none of its callbacks runs, so it can be destroyed while the other nodes
    go on. A callback that raises ends the spin, as in rclpy's executors, unless its node was
    leaving (then it is logged).

    :param threads: threads in the pool.
    :param context: the rclpy context.
    """

    def __init__(self, threads: int, *, context: Optional[Context] = None):
        super().__init__(context=context)
        self._pool = ThreadPoolExecutor(max_workers=threads,
                                        thread_name_prefix='component_executor')
        self._lock = threading.Condition()
        self._running: Dict[Node, int] = {}
        self._leaving: 'weakref.WeakSet[Node]' = weakref.WeakSet()
        self._handlers: List[Tuple[Any, Optional[Node]]] = []
        #: callbacks handed to the pool so far
        self.dispatched = 0

    def _spin_once(self, timeout_sec: Any = None,
                   condition: Callable[[], bool] = lambda: False) -> None:
        try:
            handler, _, node = self.wait_for_ready_callbacks(timeout_sec, None, condition)
        except (ExternalShutdownException, ShutdownException, TimeoutException,
                ConditionReachedException):
            return
        except InvalidHandle:
            # An entity destroyed by a callback on a pool thread while rclpy gathered the wait
            # set (a classifier resubscribing to a camera that restarted with the other QoS,
            # a lifecycle transition): rclpy's wait adds a waitable it could not enter (rclpy
            # issues 1142, 1284). The next wait gathers what is left.
            return
        with self._lock:
            if node is not None and node in self._leaving:
                handler.cancel()  # taken from the wait set just before the node left
                return
            self._running[node] = self._running.get(node, 0) + 1
            self.dispatched += 1
        self._handlers.append((handler, node))
        started = threading.Event()
        self._pool.submit(self._run, handler, node, started)
        # Until a thread runs it, the executor offers a task again at once (rclpy lists tasks
        # not yet executing as work): waiting here keeps the spin from resubmitting it in a
        # busy loop, which cost ten times the node's own CPU per frame (measured).
        started.wait()
        for done in [h for h in self._handlers if h[0].done()]:
            self._handlers.remove(done)
            self._check(*done)

    def _run(self, handler: Any, node: Optional[Node], started: threading.Event) -> None:
        try:
            started.set()
            handler()
        finally:
            with self._lock:
                self._running[node] -= 1
                if not self._running[node]:
                    del self._running[node]
                    self._lock.notify_all()

    def _check(self, handler: Any, node: Optional[Node]) -> None:
        exc = handler.exception()
        if exc is None:
            return
        if node is not None and node in self._leaving:
            rclpy.logging.get_logger(CONTAINER_NAME).warning(
                f'a callback of {node.get_fully_qualified_name()} raised while it was being '
                f'unloaded: {type(exc).__name__}: {exc}')
            return
        raise exc

    def spin_once(self, timeout_sec: Optional[float] = None) -> None:
        """
        Wait for one ready callback and start it in the pool.

        :param timeout_sec: seconds to wait; None or negative: for ever.
        """
        self._spin_once(timeout_sec)

    def spin_once_until_future_complete(self, future: Any, timeout_sec: Any = None) -> None:
        """
        Wait for one ready callback, or ``future`` done, and start it in the pool.

        :param future: the future.
        :param timeout_sec: seconds to wait; None or negative: for ever.
        """
        future.add_done_callback(lambda _: self.wake())
        self._spin_once(timeout_sec, future.done)

    def _spin_once_until_future_complete(self, future: Any, timeout_sec: Any = None) -> None:
        # What Executor.spin_until_future_complete calls on Iron and newer.
        self._spin_once(timeout_sec, future.done)

    def retire(self, node: Node, timeout: float = RETIRE_TIMEOUT_SEC) -> bool:
        """
        Take ``node`` off the executor and wait until none of its callbacks runs.

        :param node: the node.
        :param timeout: seconds at most.
        :return: whether its callbacks ended in time.
        """
        with self._lock:
            self._leaving.add(node)
        self.remove_node(node)
        with self._lock:
            return self._lock.wait_for(lambda: node not in self._running, timeout)

    def running(self) -> int:
        """Count the callbacks running now."""
        with self._lock:
            return sum(self._running.values())

    def shutdown(self, timeout_sec: Optional[float] = None) -> bool:
        """
        Stop taking callbacks; wait at most ``timeout_sec`` for the running ones.

        :param timeout_sec: seconds; None: for ever.
        :return: whether they all ended.
        """
        idle = super().shutdown(timeout_sec)
        self._pool.shutdown(wait=idle, cancel_futures=True)
        return idle


# ---------------------------------------------------------------------------- container
@dataclass
class Component:
    """A loaded node."""

    uid: int
    node: Node
    plugin: str
    #: the logger whose level the container set (reset when the node goes)
    logger: Optional[str] = None


def _reason(exc: BaseException) -> str:
    # `ros2 component load` capitalizes the message (lowering the rest): names come first.
    return str(exc) if isinstance(exc, LoadError) else f'{type(exc).__name__}: {exc}'


class ComponentContainer(Node):
    """
    A node that loads, lists and unloads rclpy nodes through the standard container services.

    Parameter ``thread_num`` (read-only): threads of the executor that runs every node;
    0 (default): the CPUs this process may use, at least 2.

    :param node_name: the container's name.
    :param plugins: node classes by (package, plugin name) to load besides the registered
        ones (tools that compose classes they do not register).
    :param kwargs: passed to :class:`rclpy.node.Node`.
    """

    def __init__(self, node_name: str = CONTAINER_NAME,
                 plugins: Optional[Dict[Tuple[str, str], Callable[..., Node]]] = None,
                 **kwargs):
        super().__init__(node_name, **kwargs)
        self._plugins = dict(plugins or {})
        threads = self.declare_parameter('thread_num', 0, ParameterDescriptor(
            description='threads of the executor that runs every loaded node (0: the CPUs '
                        'this process may use, at least 2)', read_only=True,
            integer_range=[IntegerRange(from_value=0, to_value=256, step=1)])).value
        self.threads = threads or max(2, len(os.sched_getaffinity(0)))
        self.components_executor = ComponentExecutor(self.threads, context=self.context)
        self._components: Dict[int, Component] = {}
        self._last_uid = 0
        self._abandoned = 0
        self._stuck = False
        self._lock = threading.Lock()
        group = MutuallyExclusiveCallbackGroup()  # one request at a time, parameters apart
        self.create_service(LoadNode, '~/_container/load_node', self._on_load,
                            callback_group=group)
        self.create_service(UnloadNode, '~/_container/unload_node', self._on_unload,
                            callback_group=group)
        self.create_service(ListNodes, '~/_container/list_nodes', self._on_list,
                            callback_group=group)
        self.components_executor.add_node(self)
        self.get_logger().info(f'ready: {self.threads} executor threads (thread_num)')

    # ------------------------------------------------------------------ services
    def _on_load(self, request: Any, response: Any) -> Any:
        started = time.monotonic()
        plugin = request.plugin_name
        try:
            uid, node = self.load(request)
        except Exception as exc:  # noqa: B902 - every failure is the request's answer
            response.success, response.error_message = False, _reason(exc)
            detail = '' if isinstance(exc, _EXPLAINED) else '\n' + ''.join(
                traceback.format_exception(type(exc), exc, exc.__traceback__))
            self._logger_now().error(f'cannot load {plugin} from {request.package_name}: '
                                     f'{response.error_message}{detail}')
            return response
        response.success, response.unique_id = True, uid
        response.full_node_name = node.get_fully_qualified_name()
        self._logger_now().info(f'loaded {plugin} as {response.full_node_name} (id {uid}) in '
                                f'{1e3 * (time.monotonic() - started):.0f} ms')
        return response

    def _on_unload(self, request: Any, response: Any) -> Any:
        with self._lock:
            component = self._components.pop(request.unique_id, None)
        if component is None:
            response.success = False
            response.error_message = f'No node found with unique_id: {request.unique_id}'
            self._logger_now().warning(response.error_message)
            return response
        started = time.monotonic()
        name = self._retire(component)
        self._logger_now().info(f'unloaded {name} (id {component.uid}) in '
                                f'{1e3 * (time.monotonic() - started):.0f} ms')
        response.success = True
        return response

    def _on_list(self, request: Any, response: Any) -> Any:
        for uid, name in self.loaded():
            response.unique_ids.append(uid)
            response.full_node_names.append(name)
        return response

    # ------------------------------------------------------------------ loading
    def load(self, request: Any) -> Tuple[int, Node]:
        """
        Load the node a LoadNode request asks for and add it to the executor.

        :param request: the composition_interfaces/srv/LoadNode request.
        :return: its unique id (never given again in this process) and the node.
        :raises Exception: whatever stopped the node from loading.
        """
        factory = self._plugins.get((request.package_name, request.plugin_name)) or \
            find_component(request.package_name, request.plugin_name)
        options = NodeOptions.from_request(request)
        options.kwargs['context'] = self.context
        for warning in options.warnings:
            self._logger_now().warning(f'{request.plugin_name}: {warning}')
        expected = expected_logger(factory, request) if options.level else None
        if expected:
            rclpy.logging.set_logger_level(expected, options.level)
        try:
            node = create_node(factory, options.kwargs)
        except BaseException:
            if expected:
                rclpy.logging.set_logger_level(expected, LoggingSeverity.UNSET)
            raise
        logger = node.get_logger().name
        if options.level and logger != expected:
            if expected:
                rclpy.logging.set_logger_level(expected, LoggingSeverity.UNSET)
            rclpy.logging.set_logger_level(logger, options.level)
        name = node.get_fully_qualified_name()
        with self._lock:
            if any(c.node.get_fully_qualified_name() == name
                   for c in self._components.values()):
                self._logger_now().warning(f'a node named {name} is loaded already: both '
                                           'now share the name')
            self._last_uid += 1
            uid = self._last_uid
            self._components[uid] = Component(uid, node, request.plugin_name,
                                              logger if options.level else None)
        self.components_executor.add_node(node)
        return uid, node

    def loaded(self) -> List[Tuple[int, str]]:
        """Give the loaded nodes' ids and full names, in load order."""
        with self._lock:
            return [(c.uid, c.node.get_fully_qualified_name())
                    for c in self._components.values()]

    # ------------------------------------------------------------------ stopping
    def _retire(self, component: Component) -> str:
        """Take a node off the executor, then destroy it; give its full name."""
        name = component.node.get_fully_qualified_name()
        if not self.components_executor.retire(component.node):
            self._stuck = True
            self._logger_now().warning(f'{name}: a callback still runs after '
                                       f'{RETIRE_TIMEOUT_SEC:g} s; destroying the node anyway')
        self._destroy(component, name)
        return name

    def _destroy(self, component: Component, name: str) -> None:
        try:
            component.node.destroy_node()  # the classifier stops its workers, bounded
        except Exception as exc:  # noqa: B902 - the other nodes still go down cleanly
            self._logger_now().error(f'{name}: destroy_node raised {_reason(exc)}')
        abandoned = getattr(component.node, 'abandoned', 0)
        if isinstance(abandoned, int) and abandoned > 0:
            with self._lock:
                self._abandoned += abandoned
        if component.logger:
            rclpy.logging.set_logger_level(component.logger, LoggingSeverity.UNSET)

    def stop(self) -> bool:
        """
        Stop the executor and destroy every loaded node, all at once, then the container.

        Each node's ``destroy_node`` is as bounded as at a standalone process's exit (the
        classifier gives its workers SHUTDOWN_TIMEOUT_SEC), so the whole takes as long as the
        slowest node. One line names the nodes stopped.

        :return: whether a thread is left stuck in work given up on (a worker abandoned in a
            backend, or a callback still running): the process must then exit at once.
        """
        started = time.monotonic()
        idle = self.components_executor.shutdown(RETIRE_TIMEOUT_SEC)
        with self._lock:
            components = list(self._components.values())
            self._components.clear()
        names = [(c, c.node.get_fully_qualified_name()) for c in components]
        if names:
            with ThreadPoolExecutor(len(names)) as pool:
                list(pool.map(lambda cn: self._destroy(*cn), names))
            self._logger_now().info(
                f'stopped {len(names)} node(s) in {1e3 * (time.monotonic() - started):.0f} ms: '
                + ', '.join(f'{n} (id {c.uid})' for c, n in names))
        if not idle:
            self._logger_now().warning(f'{self.components_executor.running()} callback(s) '
                                       f'still running after {RETIRE_TIMEOUT_SEC:g} s')
        self.destroy_node()
        return self._stuck or not idle or self._abandoned > 0

    def _logger_now(self) -> Any:
        # After a signal the context is down and /rosout with it: log to the console only,
        # under a child name that rcl does not route to /rosout (as the classifier does).
        return self.get_logger() if self.context.ok() else \
            rclpy.logging.get_logger(f'{self.get_logger().name}.shutdown')


def main(args: Optional[List[str]] = None,
         plugins: Optional[Dict[Tuple[str, str], Callable[..., Node]]] = None) -> int:
    """
    Run the component container until Ctrl-C, SIGTERM or an rclpy shutdown.

    :param args: command-line arguments (ROS arguments included; they are the container's
        own, not its nodes').
    :param plugins: node classes to load besides the registered ones (see
        :class:`ComponentContainer`).
    :return: exit code: 0 on a normal shutdown, 1 when the container cannot start.
    """
    tune_allocator()  # the classifiers it loads handle frames
    logger = rclpy.logging.get_logger('component_container')
    problem = init(args)
    if problem:
        logger.error(f'cannot start: {problem}')
        return 1
    container, stuck = None, False

    def cleanup() -> None:
        nonlocal stuck
        if container is not None:
            stuck = container.stop()

    with starting(logger, cleanup) as code:
        container = ComponentContainer(plugins=plugins)
        spin_until_shutdown(container, container.components_executor)
    return leave(code[0], stuck)


if __name__ == '__main__':
    sys.exit(main())
