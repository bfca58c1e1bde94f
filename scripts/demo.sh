#!/usr/bin/env bash
# Quick start, first command: the main job. Installs and builds tml, creates a voice-control project
# in build/demo/voice-control, collects the real Speech Commands clips of ../shared/data/audio from
# the emulated Cortex-M4F board, and computes their MFCC features (and a picture of one) with the
# portable preprocessing core, then builds the int8 model and its Cortex-M4F image (tml build),
# flashes the board app onto the emulated board, watches it classify live (tml monitor) and ends
# with tml test: the test split (held-out voices) through the board, host = device stage by stage.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
tml=$PWD/build/cli/tml
audio=$(cd .. && pwd)/shared/data/audio
demo=$PWD/build/demo/voice-control

rm -rf "$demo"
mkdir -p "$(dirname "$demo")"
"$tml" new voice-control --template voice-control --dir "$demo"
# The emulated Cortex-M4F board (QEMU) runs the collection firmware; its microphone replays the
# real clips in order, and tml collects them over the wire protocol, one labelled take at a time.
"$tml" -C "$demo" flash --board qemu-m4 --replay "$audio/yes_1000ms.wav" "$audio/no_1000ms.wav" \
  "$audio/silence_1000ms.wav" "$audio/noise_1000ms.wav"
trap '"$tml" -C "$demo" stop >/dev/null 2>&1 || true' EXIT
"$tml" -C "$demo" devices
"$tml" -C "$demo" collect --label yes
"$tml" -C "$demo" collect --label no
"$tml" -C "$demo" collect --label _silence --count 2
"$tml" -C "$demo" stop
"$tml" -C "$demo" dataset
"$tml" -C "$demo" dataset check
"$tml" -C "$demo" preprocess
"$tml" -C "$demo" preprocess --file "$audio/yes_1000ms.wav" --out "$demo/build/yes_mfcc.npy" --plot "$demo/build/yes_mfcc.png"
# The keyword demo dataset (espeak-ng voices, speeds and pitches with real background noise; see
# docs/demo-data.md) joins the collected clips, then `tml build` runs the whole chain to a checked
# int8 image for the emulated Cortex-M4F and prints its summary.
rm -rf "$demo/../voice-control-data"
/usr/bin/python3 scripts/demo_data.py voice-control "$demo/../voice-control-data" --seed 1
"$tml" -C "$demo" import --group-pattern '^(.+)_nohash_' "$demo/../voice-control-data/yes" "$demo/../voice-control-data/no" \
  "$demo/../voice-control-data/_silence" "$demo/../voice-control-data/_unknown"
"$tml" -C "$demo" build
# The board app (collection + the int8 model + its MFCC preprocessing) onto the emulated board, a
# few seconds of live classification of its (replayed) microphone, then the proof: the whole test
# split from raw audio through the board, features and outputs compared with the host byte for byte.
"$tml" -C "$demo" flash
"$tml" -C "$demo" monitor --windows 8
"$tml" -C "$demo" test
