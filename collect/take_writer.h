#pragma once
// A take captured from a board, turned into the file the dataset stores: int16 audio -> WAV
// (libsndfile), camera frames -> PNG (OpenCV, lossless, decoded by the portable core exactly as
// the board decodes them), float32 IMU -> CSV (9 significant digits: every float comes back exact).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collect/board_client.h"
#include "protocol/messages.h"

namespace tml {

struct EncodedTake {
  std::string ext;  // ".wav", ".png", ".csv"
  std::vector<std::uint8_t> bytes;
  nlohmann::ordered_json details;  // rate/channels/frames/duration, or shape
};

// Throws tml::Error(invalid_input) when the bytes are not whole samples (or one whole frame) of
// the sensor's format.
EncodedTake encode_take(const proto::SensorDescriptor& sensor, const std::vector<std::uint8_t>& bytes);

// The manifest's "capture" object: frames, losses, rates.
nlohmann::ordered_json capture_stats(const TakeResult& take, const proto::SensorDescriptor& sensor);

// Bytes of one sample (all channels), or of one whole frame for a camera; 0 for an unknown format.
std::size_t unit_bytes(const proto::SensorDescriptor& sensor);

// The sensor's rate in Hz (samples or frames per second).
double rate_hz(const proto::SensorDescriptor& sensor);

}  // namespace tml
