# repvit_ros developer entry points. Every target sets up what it needs first.
SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
ACTIVATE := source $(ROOT)/tools/activate
PYTEST_ARGS ?=

.PHONY: env env-humble env-export test test-launch test-export lint demo bench self-check clean

env:
	@bash $(ROOT)/tools/setup_env.sh

# The board's numpy/OpenCV/onnxruntime for the pure unit tests (no ROS; see tools/run_tests.sh).
env-humble:
	@bash $(ROOT)/tools/setup_compat_env.sh

# PyTorch and timm for export_model and its tests (Python 3.11, ~5.8 GB; see tools/).
env-export:
	@bash $(ROOT)/tools/setup_export_env.sh

test: env env-humble
	@$(ACTIVATE) && bash $(ROOT)/tools/run_tests.sh $(PYTEST_ARGS)

# README's and docs/' commands under the real `ros2` CLI, built from ../shared/ros2cli.
test-launch: env
	@$(ACTIVATE) && bash $(ROOT)/tools/run_launch_tests.sh $(PYTEST_ARGS)

# export_model against real PyTorch and timm (test/export), in its own venv.
test-export: env-export
	@bash $(ROOT)/tools/run_export_tests.sh $(PYTEST_ARGS)

lint: env
	@$(ACTIVATE) && python -m pytest -q $(ROOT)/test/test_lint.py

demo: env
	@$(ACTIVATE) && python -m repvit_ros.bench.demo

bench: env
	@$(ACTIVATE) && python -m repvit_ros.bench.benchmark all

# Prove an install right with the real weights found (see README, "Check your install").
self-check: env
	@$(ACTIVATE) && python -m repvit_ros.bench.self_check

clean:
	rm -rf $(ROOT)/build
