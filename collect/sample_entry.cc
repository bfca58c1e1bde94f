#include "collect/sample_entry.h"

#include <ctime>

#include "core/split.h"

namespace tml {

using json = nlohmann::ordered_json;

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

json sample_entry(const Project& project, const std::string& label, const std::string& sha256, const std::string& ext,
                  std::size_t bytes, const json& details, const json& source, const json& capture,
                  const std::string& group) {
  const std::string id = sha256.substr(0, 16);
  json entry{{"id", id},
             {"label", label},
             {"split", split_for(group.empty() ? id : "group:" + group, project.split_fractions())},
             {"path", label + "/" + id + ext},
             {"sha256", sha256},
             {"bytes", bytes},
             {"sensor", project.sensor_kind()}};
  if (!group.empty()) entry["group"] = group;
  entry.update(details);
  entry["source"] = source;
  entry["capture"] = capture;
  entry["added"] = utc_now();
  return entry;
}

}  // namespace tml
