#include "board_output.h"

namespace tml::cli {

using json = nlohmann::ordered_json;

namespace {

std::string hex(const std::uint8_t* b, std::size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += {d[b[i] >> 4], d[b[i] & 15]};
  return s;
}

}  // namespace

json hello_json(const proto::Hello& h) {
  json sensors = json::array();
  for (std::size_t i = 0; i < h.sensor_count; ++i) {
    const auto& s = h.sensors[i];
    const char* kinds[] = {"?", "audio", "imu", "camera"};
    const char* formats[] = {"?", "int16", "float32", "rgb565", "yuv422", "gray8"};
    json j{{"kind", kinds[static_cast<int>(s.kind)]},
           {"format", formats[static_cast<int>(s.format)]},
           {"channels", s.channels},
           {"rate", s.rate_millihertz / 1000.0}};
    if (s.kind == proto::SensorKind::camera) j["size"] = {s.width, s.height};
    sensors.push_back(j);
  }
  return json{{"board", h.board},
              {"revision", h.board_revision},
              {"firmware", std::to_string(h.firmware_major) + "." + std::to_string(h.firmware_minor) + "." +
                               std::to_string(h.firmware_patch)},
              {"config_hash", hex(h.config_hash, 8)},
              {"max_payload", h.max_payload},
              {"sensors", sensors}};
}

}  // namespace tml::cli
