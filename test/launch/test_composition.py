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

"""docs/composition.md's commands under the real ``ros2 component`` and ``ros2 launch``."""

from support import wait_until
from vision_msgs.msg import Classification


def _listed(commands, text, timeout=60.0):
    """Run the documented ``ros2 component list`` until its output has ``text``; give it."""
    seen = ['']

    def shows():
        seen[0] = commands.documented_run('ros2 component list').answer
        return text in seen[0]
    wait_until(shows, timeout)
    return seen[0]


def _found(run, timeout=60.0):
    """
    Run a ``ros2 component`` command until it finds the container; give the finished command.

    The first ``ros2`` command starts the ROS 2 daemon and asks the graph itself; the next ones
    ask the daemon, which may not have discovered the container yet ("Unable to find container
    node"; nothing was done then).
    """
    done = [None]

    def found():
        done[0] = run()
        return 'Unable to find container node' not in done[0].output
    wait_until(found, timeout)
    return done[0]


def test_component_load_list_unload_and_a_launch_loading_into_the_container(commands, probe):
    container = commands.documented_start('ros2 run repvit_ros component_container')
    assert '/ComponentManager' in _listed(commands, '/ComponentManager'), container.output
    front = probe.listen('/front/classification', Classification)
    load = _found(lambda: commands.documented_run(
        'ros2 component load /ComponentManager repvit_ros repvit_ros::RepVitClassifier '
        '--node-namespace /front -r image:=/front/image_raw -p model:=m1_0'))
    assert load.proc.returncode == 0, load.output + container.output
    assert ("Loaded component 1 into '/ComponentManager' container node as "
            "'/front/repvit_classifier'") in load.output
    source = _found(lambda: commands.documented_run(
        'ros2 component load /ComponentManager repvit_ros repvit_ros::FrameSource '
        '--node-namespace /front -r image:=/front/image_raw'))
    assert source.proc.returncode == 0, source.output + container.output
    assert "as '/front/frame_source'" in source.output
    assert front.wait(3), container.output  # the composed camera feeds the composed classifier
    assert front.messages[0].header.frame_id == 'camera'
    two = '/ComponentManager\n  1  /front/repvit_classifier\n  2  /front/frame_source\n'
    listed = _listed(commands, two)
    assert two in listed, listed
    print(listed)  # the documented `ros2 component list` output, as the suite saw it
    unload = _found(lambda: commands.documented_run('ros2 component unload /ComponentManager 2'))
    assert unload.proc.returncode == 0, unload.output
    assert "Unloaded component 2 from '/ComponentManager' container node" in unload.output

    # Another launch file's classifier, into the same running container.
    rear = probe.listen('/rear/classification', Classification)
    launched = commands.documented_run(
        'ros2 launch repvit_ros classify.launch.py container:=/ComponentManager namespace:=rear '
        'image_topic:=/rear/image_raw')
    assert launched.proc.returncode == 0, launched.output
    assert "Loaded node '/rear/repvit_classifier' in container '/ComponentManager'" in \
        launched.output
    probe.camera('/rear/image_raw')
    assert rear.wait(3), container.output
    ids = _found(lambda: commands.run('ros2 component list /ComponentManager')).answer
    assert ids.split('\n')[:2] == ['1  /front/repvit_classifier',
                                   '3  /rear/repvit_classifier'], ids

    bad = _found(lambda: commands.run(
        'ros2 component load /ComponentManager repvit_ros repvit_ros::Nothing'))
    assert bad.proc.returncode != 0 and 'Failed to load component' in bad.output, bad.output
    assert container.running()
    assert container.stop() == 0, container.output
    out = container.output
    assert 'Traceback' not in out, out
    assert 'stopped 2 node(s) in ' in out and '/front/repvit_classifier (id 1)' in out, out
    assert sum('stopped: released' in ln for ln in out.splitlines()) == 2, out  # front, rear
    assert sum('stopped: published' in ln for ln in out.splitlines()) == 1, out  # unloaded


def test_composable_true_starts_a_container_with_the_classifier(commands, probe):
    results = probe.listen('/repvit/classification', Classification)
    launch = commands.documented_start('ros2 launch repvit_ros classify.launch.py '
                                       'composable:=true')
    probe.camera('/image_raw')
    assert results.wait(3), launch.output
    listed = _found(lambda: commands.run(
        'ros2 component list /repvit/repvit_container')).answer
    assert listed.startswith('1  /repvit/repvit_classifier'), listed + launch.output
    assert launch.stop() == 0, launch.output
    assert 'stopped: released' in launch.output and 'Traceback' not in launch.output


def test_composed_launch_file_runs_a_camera_and_the_classifier_in_one_process(commands,
                                                                              probe):
    results = probe.listen('/repvit/classification', Classification)
    launch = commands.documented_start('ros2 launch repvit_ros composed.launch.py')
    assert results.wait(5), launch.output
    assert results.messages[0].header.frame_id == 'camera'  # from the composed frame source
    assert launch.wait_output(r"Loaded node '/camera' in container '/perception'"), launch.output
    assert launch.stop() == 0, launch.output
    out = launch.output
    assert 'stopped 2 node(s) in ' in out and 'Traceback' not in out, out
    assert out.count('process started with pid') == 1, out  # one process for both nodes


def test_the_container_runs_its_nodes_on_thread_num_threads(commands):
    container = commands.documented_start(
        'ros2 run repvit_ros component_container --ros-args -p thread_num:=4')
    assert container.wait_output(r'ready: 4 executor threads \(thread_num\)'), container.output
    answer = ['']

    def got():  # the daemon may not have discovered the container yet
        answer[0] = commands.documented_run('ros2 param get /ComponentManager thread_num').answer
        return 'Integer value is: 4' in answer[0]
    wait_until(got, 60)
    assert answer[0].strip() == 'Integer value is: 4', answer[0]
    assert container.stop() == 0, container.output
    assert 'Traceback' not in container.output, container.output
