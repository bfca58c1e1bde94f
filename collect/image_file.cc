#include "collect/image_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace tml {

namespace fs = std::filesystem;

namespace {

// libpng prints its own "libpng error: ..." lines to stderr while OpenCV decodes a damaged file;
// tml reports the problem itself in one line, so stderr is muted for the decode call.
class MutedStderr {
 public:
  MutedStderr() : saved_(::dup(STDERR_FILENO)) {
    int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDERR_FILENO);
      ::close(null_fd);
    }
  }
  ~MutedStderr() {
    if (saved_ >= 0) {
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
    }
  }

 private:
  int saved_;
};

}  // namespace

StoredImage read_image_as_png(const fs::path& file) {
  std::vector<std::uint8_t> bytes = read_file_bytes(file);
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  cv::Mat image;
  try {
    MutedStderr muted;
    image = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception&) {
    image = cv::Mat();
  }
  if (image.empty()) {
    throw invalid_input(file.string(), "not an image OpenCV can decode (damaged, truncated or another format); "
                                       "use PNG, JPEG or BMP");
  }
  if (image.depth() != CV_8U) {
    throw invalid_input(file.string(), "an image with more than 8 bits per channel; convert it to 8-bit first");
  }
  StoredImage out{.width = image.cols, .height = image.rows, .channels = image.channels()};
  static const std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 8 && std::equal(png_signature, png_signature + 8, bytes.begin())) {
    out.png = std::move(bytes);
  } else if (!cv::imencode(".png", image, out.png)) {
    throw Error(ExitCode::internal, file.string() + ": OpenCV could not encode the image as PNG");
  }
  return out;
}

}  // namespace tml
