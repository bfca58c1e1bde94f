#!/usr/bin/env bash
# Quick start, first command: the main job. Installs and builds tml, creates a voice-control project
# in build/demo/voice-control, imports the real Speech Commands clips from ../shared/data/audio and
# computes their MFCC features (and a picture of one) with the portable preprocessing core.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
tml=$PWD/build/cli/tml
audio=$(cd .. && pwd)/shared/data/audio
demo=$PWD/build/demo/voice-control

rm -rf "$demo"
mkdir -p "$(dirname "$demo")"
"$tml" new voice-control --template voice-control --dir "$demo"
"$tml" -C "$demo" import "$audio/yes_1000ms.wav" --label yes
"$tml" -C "$demo" import "$audio/no_1000ms.wav" --label no
"$tml" -C "$demo" import "$audio/silence_1000ms.wav" "$audio/noise_1000ms.wav" --label _silence
"$tml" -C "$demo" dataset
"$tml" -C "$demo" dataset check
"$tml" -C "$demo" preprocess
"$tml" -C "$demo" preprocess --file "$audio/yes_1000ms.wav" --out "$demo/build/yes_mfcc.npy" --plot "$demo/build/yes_mfcc.png"
