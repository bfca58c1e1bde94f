#pragma once
// How verbs show a board's HELLO (board, firmware, config hash, sensors) in JSON and text.
#include <nlohmann/json.hpp>

#include "protocol/messages.h"

namespace tml::cli {

nlohmann::ordered_json hello_json(const proto::Hello& hello);

}  // namespace tml::cli
