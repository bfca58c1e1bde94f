#include <unistd.h>

#include <iostream>

#include "context.h"

namespace tml::cli {

void Context::print(const nlohmann::ordered_json& doc, const std::function<void(std::ostream&)>& human) const {
  if (json) {
    std::cout << doc.dump(2) << std::endl;
  } else if (!quiet) {
    human(std::cout);
    std::cout.flush();
  }
}

bool Context::show_progress() const { return !quiet && ::isatty(STDERR_FILENO); }

}  // namespace tml::cli
