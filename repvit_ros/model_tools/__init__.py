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
What a user does with model files, without DDS: the user's model tools.

Turn a checkpoint into the zoo's deploy ONNX (:mod:`.export`, ``export_model``), download and
verify the zoo's files (:mod:`.download`, ``download_models``), check an install with the real
weights (:mod:`.self_check`, ``self_check``; its photos in :mod:`.photos`), measure accuracy on
labelled images (:mod:`.evaluate`), prepare a fine-tuned model for hb_mapper
(:mod:`.quantization`, ``quantization_config`` and ``prepare_calibration``), and the synthetic
RepViT with untrained weights (:mod:`.synthetic`, ``make_synthetic_model``). They use the
product modules of :mod:`repvit_ros`, which never import this package, and no ROS.
"""
