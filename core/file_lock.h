#pragma once
// An exclusive advisory lock (flock) held for the object's lifetime, so two tml processes never
// write the same dataset at once. The kernel drops it when the process dies, even by SIGKILL.
#include <filesystem>

namespace tml {

class FileLock {
 public:
  // Throws tml::Error when the lock file cannot be created or another process holds the lock.
  explicit FileLock(const std::filesystem::path& lock_file);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace tml
