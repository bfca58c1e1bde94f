#!/usr/bin/env bash
# Installs every Debian 12 package the whole tml project needs (build, tests, firmware, training,
# data). Idempotent: packages already present are left alone and apt is not even asked.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  # host libraries (DESIGN.md §5)
  libcli11-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libserialport-dev libsndfile1-dev
  libsamplerate0-dev libopencv-dev
  nlohmann-json3-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libflatbuffers-dev flatbuffers-compiler flatbuffers-compiler-dev
  # firmware and the emulated board
  gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
  # fuzzing the protocol decoder (libFuzzer, ASan, UBSan)
  clang
  # training backend and references
  python3 python3-numpy python3-torch python3-torchaudio python3-onnx
  # real data and tools to make more
  espeak-ng sox pocketsphinx-testdata libonnx-testdata python3-skimage dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present" >&2
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${#missing[@]} packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
