#include "core/npy.h"

#include <regex>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace tml {

namespace {

const char* descr_of(NpyType t) {
  switch (t) {
    case NpyType::float32: return "<f4";
    case NpyType::int8: return "|i1";
    case NpyType::uint8: return "|u1";
    case NpyType::int32: return "<i4";
  }
  return "";
}

}  // namespace

std::size_t npy_item_size(NpyType t) { return t == NpyType::float32 || t == NpyType::int32 ? 4 : 1; }

std::vector<std::uint8_t> npy_encode(NpyType type, const std::vector<std::size_t>& shape,
                                     std::span<const std::uint8_t> data) {
  std::size_t count = 1;
  std::string dims;
  for (std::size_t d : shape) {
    count *= d;
    dims += std::to_string(d) + ",";
  }
  if (shape.size() > 1) dims.pop_back();  // (3,) for 1-D, (2,3) otherwise
  if (count * npy_item_size(type) != data.size()) throw Error(ExitCode::internal, "npy_encode: size mismatch");
  std::string header = std::string("{'descr': '") + descr_of(type) + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<std::uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(static_cast<std::uint8_t>(header.size() & 0xff));
  out.push_back(static_cast<std::uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

NpyArray npy_read(const std::filesystem::path& file) {
  std::vector<std::uint8_t> bytes = read_file_bytes(file);
  auto bad = [&](const std::string& why) { return invalid_input(file.string(), "not a usable .npy file: " + why); };
  static const std::uint8_t magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || !std::equal(magic, magic + 6, bytes.begin())) throw bad("no NumPy magic");
  if (bytes[6] != 1) throw bad("format version " + std::to_string(bytes[6]) + " (only 1.0 is read)");
  std::size_t header_len = bytes[8] | (bytes[9] << 8);
  if (10 + header_len > bytes.size()) throw bad("truncated header");
  std::string header(bytes.begin() + 10, bytes.begin() + 10 + static_cast<std::ptrdiff_t>(header_len));
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([<|>]?[a-z][0-9])'"))) throw bad("no descr");
  NpyArray a;
  std::string d = m[1];
  if (d == "<f4") a.type = NpyType::float32;
  else if (d == "|i1" || d == "i1") a.type = NpyType::int8;
  else if (d == "|u1" || d == "u1") a.type = NpyType::uint8;
  else if (d == "<i4") a.type = NpyType::int32;
  else throw bad("dtype " + d + " (float32, int8, uint8 or int32 expected)");
  if (header.find("'fortran_order': False") == std::string::npos) throw bad("Fortran order");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([0-9, ]*)\\)"))) throw bad("no shape");
  std::string dims = m[1];
  std::size_t count = 1;
  static const std::regex number("[0-9]+");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it) {
    a.shape.push_back(std::stoull(it->str()));
    count *= a.shape.back();
  }
  std::size_t need = count * npy_item_size(a.type);
  if (bytes.size() - 10 - header_len != need) throw bad("data size does not match the shape");
  a.data.assign(bytes.begin() + 10 + static_cast<std::ptrdiff_t>(header_len), bytes.end());
  return a;
}

}  // namespace tml
