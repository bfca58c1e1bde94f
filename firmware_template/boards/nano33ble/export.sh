#!/usr/bin/env bash
# Assembles the Arduino sketch of the collection firmware for the Nano 33 BLE Sense:
#   export.sh DEST   ->  DEST/tml_collect/tml_collect.ino + DEST/tml_collect/src/*
# src/ gets the portable app (app/), the HAL interface (hal/hal.h, hal/text.h), the wire protocol
# (protocol/) and this board's HAL, flattened into one folder: Arduino compiles a sketch's src/
# without adding it to the include path, so `#include "protocol/frame.h"` becomes
# `#include "frame.h"` (names are unique), and .cc files become .cpp (older arduino-cli versions
# compile only .c/.cpp/.S).
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 DEST" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
template="$(cd "$here/../.." && pwd)"
root="$(cd "$template/.." && pwd)"
sketch="$1/tml_collect"
rm -rf "$sketch"
mkdir -p "$sketch/src"
cp "$here/tml_collect/tml_collect.ino" "$sketch/"
files=(
  "$template/app/collect_app.h" "$template/app/collect_app.cc"
  "$template/hal/hal.h" "$template/hal/text.h"
  "$here/hal_nano33ble.cpp"
  "$root"/protocol/*.h "$root"/protocol/*.cc
)
for f in "${files[@]}"; do
  name="$(basename "$f")"
  case "$name" in *.cc) name="${name%.cc}.cpp" ;; esac
  sed -E 's@#include "(app|hal|protocol)/([^"/]+)"@#include "\2"@' "$f" > "$sketch/src/$name"
done
echo "$sketch"
