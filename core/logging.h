#pragma once
// Logs go to stderr (stdout is kept for results and --json documents).
namespace tml {

enum class Verbosity { quiet, normal, verbose };
void setup_logging(Verbosity verbosity);

}  // namespace tml
