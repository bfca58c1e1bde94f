#include "app/model_pipeline.h"

#include <cstring>

#include "preprocess/audio_features.h"
#include "preprocess/image_ops.h"
#include "preprocess/imu_features.h"

namespace tml::app {

namespace {

// float storage keeps every buffer 4-byte aligned (int16 PCM, float32 IMU samples).
float g_raw[(tml_features::kWindowBytes + 3) / 4];
float g_work[tml_features::kWorkFloats];
float g_features[tml_model::kInputElements];

const std::uint8_t* raw_bytes() { return reinterpret_cast<const std::uint8_t*>(g_raw); }

// One overload per sensor kind; tml_features::config() picks it.
bool features_from_raw(const tml::pre::AudioConfig& config) {  // int16 PCM, converted in small chunks
  // Set up once (window, FFT twiddles, mel filterbank) as at boot; per window only a reset.
  static tml::pre::AudioState state;
  static bool ready = false;
  const std::size_t samples = tml_features::kWindowBytes / 2;
  const std::size_t work = tml::pre::audio_workspace_floats(config);
  if (work > tml_features::kWorkFloats) return false;
  if (!ready) {
    if (tml::pre::audio_init(&state, config, g_work, work) != tml::pre::Status::ok) return false;
    ready = true;
  }
  return tml::pre::audio_frame_count(config, samples) * tml::pre::audio_feature_width(config) == tml_model::kInputElements &&
         tml::pre::audio_features_pcm16(&state, reinterpret_cast<const std::int16_t*>(g_raw), samples, g_features,
                                        tml_model::kInputElements) == tml::pre::Status::ok;
}

bool features_from_raw(const tml::pre::ImageConfig& config) {  // a camera frame
  const std::size_t out_bytes = tml::pre::image_output_bytes(config);
  const std::size_t element = config.normalize == tml::pre::Normalize::float32 ? 4 : 1;
  if (out_bytes != tml_model::kInputElements * element) return false;  // not this model's input
  auto* out = reinterpret_cast<std::uint8_t*>(g_work);
  const std::size_t work = tml::pre::image_workspace_bytes(config);
  if (out_bytes + work > sizeof g_work ||
      tml::pre::image_preprocess(config, raw_bytes(), tml_features::kWindowBytes, out + out_bytes, work, out, out_bytes) !=
          tml::pre::Status::ok)
    return false;
  for (std::size_t i = 0; i < tml_model::kInputElements; ++i) {
    if (config.normalize == tml::pre::Normalize::int8) g_features[i] = static_cast<float>(static_cast<std::int8_t>(out[i]));
    else if (config.normalize == tml::pre::Normalize::uint8) g_features[i] = static_cast<float>(out[i]);
    else std::memcpy(&g_features[i], out + 4 * i, 4);
  }
  return true;
}

bool features_from_raw(const tml::pre::ImuConfig& config) {  // float32 samples, channels interleaved
  const std::size_t floats = tml_features::kWindowBytes / 4;
  const std::size_t work = tml::pre::imu_workspace_floats(config);
  if (work > tml_features::kWorkFloats || tml::pre::imu_feature_count(config) != tml_model::kInputElements) return false;
  return tml::pre::imu_features(config, g_raw, floats, g_work, work, g_features, tml_model::kInputElements) ==
         tml::pre::Status::ok;
}

}  // namespace

std::uint8_t* raw_window() { return reinterpret_cast<std::uint8_t*>(g_raw); }
const float* window_features() { return g_features; }

bool prepare_model_input() {
  if (!features_from_raw(tml_features::config())) return false;
  tml_model::quantize_input(g_features);
  return true;
}

}  // namespace tml::app
