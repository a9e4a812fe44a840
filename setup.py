from glob import glob
import os
import xml.etree.ElementTree as ElementTree

from setuptools import find_packages
from setuptools import setup

package_name = 'repvit_ros'
_here = os.path.dirname(os.path.abspath(__file__))
# package.xml is the one source of name, version and license.
_manifest = ElementTree.parse(os.path.join(_here, 'package.xml')).getroot()
assert _manifest.findtext('name') == package_name

setup(
    name=package_name,
    version=_manifest.findtext('version'),
    packages=find_packages(exclude=['test']),
    package_data={package_name: ['data/*.txt']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*.yaml') + glob('config/*.xml')),
        ('share/' + package_name + '/models', glob('models/*.md') + glob('models/*.json') +
         glob('models/*.yaml')),
    ],
    install_requires=['setuptools'],
    # The Python API without ROS (`from repvit_ros import Classifier`) off the board:
    # `pip install ".[onnxruntime]"`. A ROS install gets these from rosdep and apt instead.
    extras_require={'onnxruntime': ['numpy', 'opencv-python-headless', 'onnxruntime']},
    zip_safe=True,
    maintainer=_manifest.find('maintainer').text,
    maintainer_email=_manifest.find('maintainer').get('email'),
    description='RepViT image classification for ROS 2 on the RDK X5 BPU or ONNX Runtime.',
    license=_manifest.findtext('license'),
    entry_points={
        'console_scripts': [
            'classifier = repvit_ros.main:main',
            'classifier_managed = repvit_ros.main:main_managed',
            'component_container = repvit_ros.container:main',
            'download_models = repvit_ros.model_tools.download:main',
            'make_synthetic_model = repvit_ros.model_tools.synthetic:main',
            'benchmark = repvit_ros.bench.benchmark:main',
            'frame_source = repvit_ros.bench.frame_source:main',
            'image_source = repvit_ros.image_source:main',
            'loadtest = repvit_ros.bench.loadtest:main',
            'self_check = repvit_ros.model_tools.self_check:main',
            'quantization_config = repvit_ros.model_tools.quantization:main',
            'prepare_calibration = repvit_ros.model_tools.quantization:prepare_main',
            'evaluate = repvit_ros.model_tools.evaluate:main',
            'export_model = repvit_ros.model_tools.export:main',
        ],
        # Node classes for a component container (repvit_ros/container.py): the request's
        # package_name is this package, its plugin_name the name before '='.
        'rclpy_components': [
            'repvit_ros::RepVitClassifier = repvit_ros.node:RepVitClassifier',
            'repvit_ros::ManagedRepVitClassifier = repvit_ros.managed:ManagedRepVitClassifier',
            'repvit_ros::FrameSource = repvit_ros.bench.frame_source:FrameSource',
            'repvit_ros::ImageSource = repvit_ros.image_source:ImageSource',
        ],
    },
)
