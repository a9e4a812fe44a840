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
An executor that does not rebuild its wait set for every camera frame.

rclpy's executors gather every entity of every node, enter each handle, build a new
``WaitSet``, wait, and wrap each ready entity in a ``Task`` for every wake-up: with a camera
frame per wake-up and about twenty entities (parameter services, timers, event handlers,
guard conditions) that was about half of the GIL time of the classifier's executor thread.
The entity set of a node changes only when one is created or destroyed (configure, activate,
a camera topic or model change), so :class:`FrameExecutor` keeps the list and one ``WaitSet``
until then, and runs a ready plain subscription's callback directly.

Everything else goes through rclpy's own code: whenever a timer, service, client, guard
condition, event handler or a pending task is ready, or an entity is not executable at that
moment, the wake-up is handed to :class:`SingleThreadedExecutor` unchanged (guard conditions
this wait consumed are triggered again first, so it sees them). What it relies on in rclpy,
the same in Humble and Kilted (pinned by ``test/ros/test_executor.py``):

- a node calls its executor's ``wake()`` for every entity it creates (and, from Iron on,
  destroys), as the context does at shutdown: the cached list is rebuilt after every
  ``wake()``, ``add_node`` and ``remove_node``; a handle destroyed without one (Humble's
  ``destroy_*``) raises ``InvalidHandle`` when entered, which also rebuilds it; a created
  task is run by rclpy's executor;
- ``_rclpy.WaitSet(subs, guards, timers, clients, services, events, context)`` with
  ``clear_entities``, ``add_subscription``/``add_guard_condition``/``add_timer``/
  ``add_client``/``add_service``, ``wait(nsec)`` and ``get_ready_entities(kind)``; waitables'
  ``get_num_entities``, ``add_to_wait_set`` and ``is_ready``;
- ``subscription.handle.take_message(msg_type, raw)`` returning ``(message, info)`` or
  ``None``; callback groups' ``can_execute``, ``beginning_execution``, ``ending_execution``;
- ``Executor._tasks``, ``_is_shutdown``, ``_sigint_gc``, ``_work_tracker``.
"""

import inspect
import time
from typing import Any, Dict, List, Optional, Tuple

from rclpy.exceptions import InvalidHandle
from rclpy.executors import (ConditionReachedException, ExternalShutdownException,
                             ShutdownException, SingleThreadedExecutor, TimeoutException)
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.utilities import timeout_sec_to_nsec
from rclpy.waitable import NumberOfEntities

__all__ = ['FrameExecutor']

#: The executor's private attributes used here (Humble's executors.py has each, same meaning).
_EXECUTOR_INTERNALS = ('_guard', '_sigint_gc', '_tasks', '_tasks_lock', '_is_shutdown',
                       '_work_tracker', '_context')
#: What of rclpy's WaitSet binding is used here.
_WAIT_SET_METHODS = ('clear_entities', 'add_subscription', 'add_guard_condition', 'add_timer',
                     'add_client', 'add_service', 'wait', 'get_ready_entities')


def _message_only(sub: Any) -> bool:
    """Whether rclpy would call this subscription's callback with the message alone, now."""
    kind = getattr(sub, '_callback_type', None)  # Iron and newer; Humble: message only
    if kind is not None and kind != type(kind).MessageOnly:
        return False
    return not inspect.iscoroutinefunction(sub.callback)


class _Entities:
    """What one wait needs, gathered once: handles in wait-set order and the fast subscriptions."""

    __slots__ = ('handles', 'adds', 'waitables', 'wait_set', 'fast', 'guard', 'generation')

    def __init__(self, executor: 'FrameExecutor'):
        self.generation = executor._generation  # read first: a change meanwhile rebuilds again
        subs: List[Any] = []
        timers: List[Any] = []
        clients: List[Any] = []
        services: List[Any] = []
        guards: List[Any] = []
        waitables: List[Any] = []
        for node in executor.get_nodes():
            subs.extend(node.subscriptions)
            timers.extend(node.timers)
            clients.extend(node.clients)
            services.extend(node.services)
            guards.extend(node.guards)
            waitables.extend(node.waitables)
        everything = subs + timers + clients + services + guards + waitables
        if not all(executor.can_execute(entity) for entity in everything):
            raise _NotNow()
        guards = guards + [gc for gc in (executor._guard, executor._sigint_gc) if gc]
        self.guard = executor._guard.handle.pointer if executor._guard else None
        count = NumberOfEntities(len(subs), len(guards), len(timers), len(clients),
                                 len(services))
        for waitable in waitables:
            with waitable:
                count += waitable.get_num_entities()
        context = executor.context.handle
        with context:
            self.wait_set = _rclpy.WaitSet(count.num_subscriptions, count.num_guard_conditions,
                                           count.num_timers, count.num_clients,
                                           count.num_services, count.num_events, context)
        ws = self.wait_set
        pairs: List[Tuple[Any, Any]] = (
            [(ws.add_subscription, s.handle) for s in subs]
            + [(ws.add_client, c.handle) for c in clients]
            + [(ws.add_service, s.handle) for s in services]
            + [(ws.add_timer, t.handle) for t in timers]
            + [(ws.add_guard_condition, g.handle) for g in guards])
        self.handles = [handle for _, handle in pairs] + [context]
        self.adds = pairs
        self.waitables = waitables
        self.fast: Dict[int, Any] = {s.handle.pointer: s for s in subs if _message_only(s)}


class _NotNow(Exception):
    """An entity cannot run now (its callback group is busy): let rclpy's executor decide."""


class FrameExecutor(SingleThreadedExecutor):
    """
    A :class:`SingleThreadedExecutor` that keeps its wait set while its nodes' entities stay.

    A wake-up on which only plain subscriptions are ready (message-only callbacks, not
    coroutines: every camera frame) takes one message from each and calls its callback in this
    thread, as rclpy would; any other wake-up is rclpy's own. :attr:`rebuilds` counts how often
    the entity list was gathered, :attr:`fast_calls` the callbacks called without rclpy's path.
    """

    def __init__(self, *, context: Any = None):
        super().__init__(context=context)
        self._entities: Optional[_Entities] = None
        self._generation = 0  # bumped by every wake(): entities, nodes or the shutdown changed
        self.rebuilds = 0
        self.fast_calls = 0

    def missing(self) -> str:
        """
        Name what this executor relies on and this rclpy lacks ('' nothing).

        :return: the first missing attribute, as ``Executor._tasks``, ``WaitSet.wait``...
        """
        for name in _EXECUTOR_INTERNALS:
            if not hasattr(self, name):
                return f'Executor.{name}'
        for name in _WAIT_SET_METHODS:
            if not hasattr(_rclpy.WaitSet, name):
                return f'WaitSet.{name}'
        if not hasattr(_rclpy.Subscription, 'take_message'):
            return 'Subscription.take_message'
        return ''

    def wake(self) -> None:
        """Rebuild the entity list before the next wait (nodes call this for every entity)."""
        self._generation += 1
        super().wake()

    def add_node(self, node: Any) -> bool:
        self._generation += 1
        return super().add_node(node)

    def remove_node(self, node: Any) -> None:
        self._generation += 1
        super().remove_node(node)

    def shutdown(self, timeout_sec: Optional[float] = None) -> bool:
        done = super().shutdown(timeout_sec)
        self._entities = None
        return done

    def spin(self) -> None:
        """Execute callbacks until shutdown (the loop of rclpy's ``Executor.spin``)."""
        while self._context.ok() and not self._is_shutdown:
            self.spin_once()

    def spin_once(self, timeout_sec: Optional[float] = None) -> None:
        """
        Wait for work and run it: the camera frame directly, anything else as rclpy does.

        Like rclpy's, it returns after running work or when ``timeout_sec`` has passed (never
        if ``None`` or negative), not when only the executor's own guard condition woke it.
        """
        deadline = None if timeout_sec is None or timeout_sec < 0 else \
            time.monotonic() + timeout_sec
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self._is_shutdown or (self._tasks and self._pending_tasks()):
                super().spin_once(remaining)
                return
            entities = self._entities
            if entities is None or entities.generation != self._generation:
                try:
                    entities = self._entities = _Entities(self)
                except (_NotNow, InvalidHandle):
                    super().spin_once(remaining)
                    return
                self.rebuilds += 1
            ready = self._wait(entities, timeout_sec_to_nsec(remaining))
            if ready:
                self._run(entities, ready)
                return
            if ready is None or (deadline is not None and time.monotonic() >= deadline):
                return

    def _run(self, entities: _Entities, ready: List[int]) -> None:
        """Take one message from each ready subscription and call its callback, as rclpy does."""
        for pointer in ready:
            sub = entities.fast[pointer]
            group = sub.callback_group
            if not group.beginning_execution(sub):
                continue
            try:
                with self._work_tracker:
                    try:
                        with sub.handle:
                            taken = sub.handle.take_message(sub.msg_type, sub.raw)
                    except InvalidHandle:  # destroyed since the wait
                        self._entities = None
                        continue
                    if taken is not None:
                        self.fast_calls += 1
                        sub.callback(taken[0])
            finally:
                group.ending_execution(sub)

    def _pending_tasks(self) -> bool:
        """Drop finished tasks (as rclpy's wait does); whether any is left to run."""
        with self._tasks_lock:
            self._tasks = [t for t in self._tasks if not t[0].done()]
            return bool(self._tasks)

    def _wait(self, entities: _Entities, timeout_nsec: int) -> Optional[List[int]]:
        """
        Wait once on the cached entities.

        :return: the ready fast subscriptions' pointers (empty after a timeout or a wake-up by
            the executor's guard condition alone), or None when there is nothing more to do
            here (a shutdown, or the wake-up was handed to rclpy's executor).
        """
        entered = []
        ws = entities.wait_set
        try:
            try:
                for handle in entities.handles:
                    handle.__enter__()
                    entered.append(handle)
                for waitable in entities.waitables:
                    waitable.__enter__()
                    entered.append(waitable)
            except InvalidHandle:  # an entity was destroyed: gather them again, rclpy decides
                self._entities = None
                others = True
            else:
                ws.clear_entities()
                for add, handle in entities.adds:
                    add(handle)
                for waitable in entities.waitables:
                    waitable.add_to_wait_set(ws)
                ws.wait(timeout_nsec)
                if self._is_shutdown:
                    return None
                if not self._context.ok():  # as rclpy's wait
                    raise ExternalShutdownException()
                subs = ws.get_ready_entities('subscription')
                guards = ws.get_ready_entities('guard_condition')
                # The executor's own guard condition: a change (wake() counted it), a task,
                # or rclpy's handlers saying they ran; nothing to run for it here.
                guards = [g for g in guards if g != entities.guard]
                others = bool(guards or ws.get_ready_entities('timer')
                              or ws.get_ready_entities('client')
                              or ws.get_ready_entities('service')
                              or any(w.is_ready(ws) for w in entities.waitables)
                              or any(s not in entities.fast for s in subs))
                if others:
                    self._retrigger(entities, guards)
        finally:
            for handle in reversed(entered):
                handle.__exit__(None, None, None)
        if others:
            self._rclpy_wake_up()
            return None
        return subs

    def _retrigger(self, entities: _Entities, ready: List[int]) -> None:
        """Trigger again the guard conditions this wait took, for rclpy's own wait to see."""
        for node in self.get_nodes():
            for gc in node.guards:
                if gc.handle.pointer in ready:
                    gc.trigger()
        if self._sigint_gc and self._sigint_gc.handle.pointer in ready:
            self._sigint_gc.trigger()

    def _rclpy_wake_up(self) -> None:
        """Run everything ready now through rclpy's executor (no waiting)."""
        while not self._is_shutdown:
            try:
                handler, _entity, _node = self.wait_for_ready_callbacks(0.0)
            except (TimeoutException, ShutdownException, ConditionReachedException):
                return
            handler()
            if handler.exception() is not None:
                raise handler.exception()
