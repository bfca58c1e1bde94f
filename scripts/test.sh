#!/usr/bin/env bash
# Quick start, second command: install, build and pass every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2
