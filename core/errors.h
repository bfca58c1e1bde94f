#pragma once
// Errors that reach the user: one line naming the file, the place and the fix, plus an exit code
// from the table in docs/cli.md. Host code throws tml::Error; cli/main.cpp turns it into output.
#include <stdexcept>
#include <string>

namespace tml {

enum class ExitCode : int {
  ok = 0,
  internal = 1,       // a bug in tml: please report it
  invalid_input = 2,  // bad command line, project file or input data
  device = 3,         // board or serial link
  external_tool = 4,  // a program tml runs (compiler, trainer, QEMU) is missing or failed
  filesystem = 5,     // a file or folder cannot be read or written
  interrupted = 130,  // Ctrl-C / SIGINT
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// "where: what" with where omitted when empty.
Error invalid_input(const std::string& where, const std::string& what);
Error filesystem_error(const std::string& where, const std::string& what);

// The text of errno, for filesystem messages.
std::string errno_text(int err);

}  // namespace tml
