#pragma once
// `tml collect --lines`: plain text lines of comma-separated numbers ("v1,v2,...\n") from any
// sketch (Serial.println) on a serial port or socket — no tml firmware needed. The column count
// and the sample rate are detected from the stream; takes are rows, stored as CSV exactly as sent.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "collect/link.h"

namespace tml {

class LineReader {
 public:
  explicit LineReader(Link& link) : link_(link) {}
  // The next complete line (without "\r\n"), or nothing after timeout_ms. The first, possibly
  // partial, line after opening is skipped. Lines longer than 4096 bytes are an error.
  std::optional<std::string> next(int timeout_ms);
  // Host time of the last line's arrival, seconds since the reader was made.
  double last_time() const { return last_time_; }

 private:
  Link& link_;
  std::string buffer_;
  bool synced_ = false;
  double last_time_ = 0;
  double start_ = -1;
};

// A line's numbers, or nothing when a cell is not a finite number.
std::optional<std::vector<double>> parse_number_line(const std::string& line);

struct LineStream {
  std::size_t columns = 0;
  double rate_hz = 0;      // lines per second, measured by the host over the detection window
  std::size_t lines = 0;   // lines used to measure
};

// Reads for `seconds`: the most common column count (every line must have it) and the rate.
// Throws tml::Error(ExitCode::device) when nothing or nothing numeric arrives.
LineStream detect_line_stream(LineReader& reader, double seconds);

struct LineTake {
  std::string csv;         // the lines as received, "\n"-terminated
  std::size_t rows = 0;
  std::string problem;     // empty when every line was whole and numeric with `columns` cells
  double seconds = 0;
};

// `rows` lines; a malformed line (other column count, non-number) makes the take unclean.
// Throws tml::Error(ExitCode::device) when the stream stops for 2 s.
LineTake capture_lines(LineReader& reader, std::size_t rows, std::size_t columns);

}  // namespace tml
