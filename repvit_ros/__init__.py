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

"""RepViT image classification for ROS 2 on the RDK X5 BPU or ONNX Runtime."""

__all__ = ['Classifier', 'Prediction']


def __getattr__(name):
    # Lazy, so that ``import repvit_ros`` (and every submodule import) stays cheap and the
    # ROS-free API loads OpenCV and the backends only when it is used.
    if name in __all__:
        from repvit_ros import classifier
        return getattr(classifier, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
