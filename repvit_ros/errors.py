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

"""The one base class of the reasons not to start, so that callers catch them as one."""


class StartupError(RuntimeError):
    """
    A configuration, model, runtime or labels problem that stops the classifier from starting.

    The message says why in one line. :class:`~repvit_ros.parameters.ParameterError`,
    :class:`~repvit_ros.models.ModelError`, :class:`~repvit_ros.backends.BackendError` and
    :class:`~repvit_ros.labels.LabelError` are kinds of it; the node raises it with the reason
    (and the params file that set a refused value).
    """
