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
The RepViT classifier node: camera frames in, ``vision_msgs/Classification`` out.

:class:`RepVitClassifier` runs the work of :class:`~repvit_ros.work.ClassifierWork` (configure
and activate) when it is created, and releases it when destroyed; the managed (lifecycle)
variant is :mod:`repvit_ros.managed`.
"""

from typing import Optional

from rclpy.node import Node
from repvit_ros import parameters
from repvit_ros.backends import Backend
from repvit_ros.errors import StartupError
from repvit_ros.work import ClassifierWork

__all__ = ['RepVitClassifier', 'StartupError']


class RepVitClassifier(ClassifierWork, Node):
    """Classify camera frames with RepViT and publish vision_msgs/Classification."""

    def __init__(self, node_name: str = 'repvit_classifier', *,
                 backend: Optional[Backend] = None, **kwargs):
        """
        Create the node: parameters, model, publishers, then the subscription.

        :param node_name: the node's name.
        :param backend: an already loaded backend to use instead of the configured one (the
            node then does not close it); for tools such as the benchmark.
        :param kwargs: passed to :class:`rclpy.node.Node` (namespace, context,
            parameter_overrides, ...).
        :raises StartupError: for invalid parameters, a missing or unloadable model, labels.
        """
        super().__init__(node_name, **kwargs)
        self._released = False
        try:
            self._init_work()
            self._configure(backend)
            self._activate()
        except parameters.ParameterError as exc:
            raise StartupError(str(exc)) from None
        except Exception:
            self._release()
            raise

    def _release(self) -> None:
        if not self._released:
            self._released = True
            self._deactivate(0.0)
            self._cleanup()

    def destroy_node(self) -> None:
        """Stop the workers, close the backend, then destroy the node."""
        self._release()
        super().destroy_node()
