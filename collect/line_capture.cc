#include "collect/line_capture.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/errors.h"

namespace tml {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::optional<std::string> LineReader::next(int timeout_ms) {
  if (start_ < 0) start_ = now_s();
  const double deadline = now_s() + timeout_ms / 1000.0;
  for (;;) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!synced_) {  // the first line may have started before we listened
        synced_ = true;
        continue;
      }
      last_time_ = now_s() - start_;
      return line;
    }
    if (buffer_.size() > 4096) throw Error(ExitCode::device, link_.name() + ": a line longer than 4096 bytes; is this a text stream?");
    const double left = deadline - now_s();
    if (left <= 0) return std::nullopt;
    std::uint8_t buf[1024];
    const std::size_t n = link_.read(buf, sizeof buf, static_cast<int>(left * 1000) + 1);
    buffer_.append(reinterpret_cast<const char*>(buf), n);
  }
}

std::optional<std::vector<double>> parse_number_line(const std::string& line) {
  std::vector<double> values;
  std::size_t pos = 0;
  while (pos <= line.size()) {
    const std::size_t comma = line.find(',', pos);
    const std::string cell = line.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char* end = nullptr;
    const double v = std::strtod(cell.c_str(), &end);
    while (end && (*end == ' ' || *end == '\t')) ++end;
    if (cell.empty() || end == cell.c_str() || *end != '\0' || !std::isfinite(v)) return std::nullopt;
    values.push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return values;
}

LineStream detect_line_stream(LineReader& reader, double seconds) {
  std::map<std::size_t, std::size_t> by_columns;
  std::size_t numeric = 0, total = 0;
  double first = -1, last = 0;
  const double until = now_s() + seconds;
  while (now_s() < until) {
    auto line = reader.next(static_cast<int>((until - now_s()) * 1000) + 1);
    if (!line) break;
    ++total;
    const auto values = parse_number_line(*line);
    if (!values) continue;
    ++numeric;
    ++by_columns[values->size()];
    if (first < 0) first = reader.last_time();
    last = reader.last_time();
  }
  if (numeric < 2)
    throw Error(ExitCode::device, std::to_string(total) + " line(s) in " + std::to_string(seconds) +
                                      " s, " + std::to_string(numeric) +
                                      " numeric; expected a stream of \"v1,v2,...\" lines (check the port and baud rate)");
  LineStream s;
  for (const auto& [cols, n] : by_columns)
    if (n > by_columns[s.columns]) s.columns = cols;
  s.lines = numeric;
  s.rate_hz = last > first ? (numeric - 1) / (last - first) : 0;
  return s;
}

LineTake capture_lines(LineReader& reader, std::size_t rows, std::size_t columns) {
  LineTake t;
  const double start = now_s();
  while (t.rows < rows) {
    auto line = reader.next(2000);
    if (!line) throw Error(ExitCode::device, "the text stream stopped for 2 s (sketch reset or board unplugged?)");
    const auto values = parse_number_line(*line);
    if (t.problem.empty()) {
      if (!values) t.problem = "row " + std::to_string(t.rows + 1) + ": not a line of numbers: '" + line->substr(0, 40) + "'";
      else if (values->size() != columns)
        t.problem = "row " + std::to_string(t.rows + 1) + ": " + std::to_string(values->size()) + " values, expected " +
                    std::to_string(columns);
    }
    t.csv += *line + "\n";
    ++t.rows;
  }
  t.seconds = now_s() - start;
  return t;
}

}  // namespace tml
