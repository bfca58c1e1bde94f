#pragma once
// What a camera sensor sends for a scene: an 8-bit RGB image encoded as RGB565 (big-endian pixel
// pairs, as the OV7675 sends them), YUV422 (YUYV, BT.601 video range) or gray bytes. Used to
// replay images on emulated boards; the board side decodes with preprocess/image_ops.h.
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "protocol/messages.h"

namespace tml {

// rgb: CV_8UC3 in R, G, B order. Throws tml::Error(invalid_input) for an odd width with YUV422.
std::vector<std::uint8_t> encode_camera_frame(const cv::Mat& rgb, proto::SampleFormat format);

}  // namespace tml
