#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "core/errors.h"

namespace tml {

namespace fs = std::filesystem;

namespace {

void fsync_folder(const fs::path& folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomic(const fs::path& target, std::span<const std::uint8_t> bytes) {
  fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  fs::path temp = folder / (".tmp-" + target.filename().string() + "-" + std::to_string(::getpid()));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    throw filesystem_error(folder.string(), "cannot write here (" + errno_text(err) +
                                                "); check the folder exists and you may write to it");
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      throw filesystem_error(target.string(), "write failed (" + errno_text(err) + ")");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    throw filesystem_error(target.string(), "write failed (" + errno_text(err) + ")");
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    throw filesystem_error(target.string(), "cannot replace the file (" + errno_text(err) + ")");
  }
  fsync_folder(folder);
}

void write_file_atomic(const fs::path& target, std::string_view text) {
  write_file_atomic(target, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::vector<std::uint8_t> read_file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw filesystem_error(file.string(), "cannot read the file (" + errno_text(errno) + ")");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw filesystem_error(file.string(), "read error");
  return bytes;
}

std::string read_file_text(const fs::path& file) {
  auto bytes = read_file_bytes(file);
  return std::string(bytes.begin(), bytes.end());
}

void remove_stale_temp_files(const fs::path& folder) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    if (e.path().filename().string().rfind(".tmp-", 0) == 0) fs::remove(e.path(), ec);
  }
}

}  // namespace tml
