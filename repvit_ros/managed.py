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
The managed (lifecycle) classifier: the same work as the plain node, on lifecycle transitions.

configure loads the model and creates the (lifecycle) publishers and workers; activate
subscribes and publishes; deactivate unsubscribes and lets frames in work finish (their
results dropped, counted) while the model stays loaded; cleanup releases workers, model and
publishers; shutdown works from any state. Each transition logs one line with its duration. A
configure that fails returns FAILURE with the reason and leaves the node unconfigured, so it
can be retried. With ``autostart`` the node configures and activates itself, like the plain
node, without a lifecycle manager.
"""

import time
from typing import Callable

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.publisher import Publisher
from repvit_ros.errors import StartupError
from repvit_ros.work import ClassifierWork, QUIET_PUBLISHER

SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE
#: How each transition's log line says it is done.
DONE = {'configure': 'configured', 'activate': 'activated', 'deactivate': 'deactivated',
        'cleanup': 'cleaned up', 'shutdown': 'shut down'}


class ManagedRepVitClassifier(ClassifierWork, LifecycleNode):
    """RepViT classifier as a lifecycle node (``classifier_managed``)."""

    def __init__(self, node_name: str = 'repvit_classifier', **kwargs):
        """
        Create the node unconfigured: parameters only, no model, no topics.

        :param node_name: the node's name.
        :param kwargs: passed to :class:`rclpy.lifecycle.LifecycleNode`.
        """
        super().__init__(node_name, **kwargs)
        self._init_work()
        if self.get_parameter('autostart').value:
            self.trigger_configure()
            if self._settings is not None:
                self.trigger_activate()

    def _publisher(self, msg_type: type, topic: str, qos) -> Publisher:
        return self.create_lifecycle_publisher(msg_type, topic, qos,
                                               event_callbacks=QUIET_PUBLISHER)

    def _transition(self, name: str, step: Callable[[], None]) -> TransitionCallbackReturn:
        started = time.monotonic()
        try:
            step()
        except StartupError as exc:
            self.get_logger().error(f'{name} failed after '
                                    f'{1e3 * (time.monotonic() - started):.0f} ms: {exc}')
            return FAILURE
        self.get_logger().info(f'{DONE[name]} in {1e3 * (time.monotonic() - started):.0f} ms')
        return SUCCESS

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load the model; create publishers and workers."""
        return self._transition('configure', self._configure)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Enable the publishers, subscribe and start the timers."""
        super().on_activate(state)
        return self._transition('activate', self._activate)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe; frames in work finish; the model stays loaded."""
        result = self._transition('deactivate', self._deactivate)
        super().on_deactivate(state)
        return result

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release workers, model and publishers."""
        return self._transition('cleanup', self._unconfigure)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop from any state."""
        return self._transition('shutdown', self._stop)

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything after an error; the node can be configured again."""
        self._stop()
        return SUCCESS

    def _unconfigure(self) -> None:
        self._cleanup()
        self._settings = None

    def _stop(self) -> None:
        if self._active:
            self._deactivate()
        self._unconfigure()

    def destroy_node(self) -> None:
        """Release what the node holds in any state, then destroy it."""
        self._stop()
        super().destroy_node()
