#!/usr/bin/env bash
# Sourced by tools/run_tests.sh and tools/run_launch_tests.sh: the DDS environment of a test run.
# A private DDS domain per run, discovery kept on this host.
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( (RANDOM % 100) + 100 ))}"
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
# Humble knows only ROS_LOCALHOST_ONLY (the range came with Iron). Jazzy still honours it but
# warns in every process started with it, a line in each output the tests read; Kilted ignores it.
if [ "${ROS_DISTRO:-}" = humble ]; then export ROS_LOCALHOST_ONLY=1; else unset ROS_LOCALHOST_ONLY; fi
# Humble's generated message classes always check every field assignment (type, range, each
# element of a sequence); Jazzy's and Kilted's do so only when this is '1' (read once, at import).
export ROS_PYTHON_CHECK_FIELDS=1
