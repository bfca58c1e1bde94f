#include "core/errors.h"

#include <cstring>

namespace tml {

namespace {
std::string join(const std::string& where, const std::string& what) {
  return where.empty() ? what : where + ": " + what;
}
}  // namespace

Error invalid_input(const std::string& where, const std::string& what) {
  return Error(ExitCode::invalid_input, join(where, what));
}

Error filesystem_error(const std::string& where, const std::string& what) {
  return Error(ExitCode::filesystem, join(where, what));
}

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace tml
