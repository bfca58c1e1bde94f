#pragma once
// CRC-32 as Ethernet, zlib and PNG compute it: reflected polynomial 0xEDB88320, initial value
// 0xFFFFFFFF, final XOR 0xFFFFFFFF ("123456789" -> 0xCBF43926). Table-free (4 bits at a time with a
// 16-entry table in flash) to stay small on the board.
#include <cstddef>
#include <cstdint>

namespace tml::proto {

// Continue a CRC: crc32_update(0, data, n) is the CRC of data; feed more with the returned value.
std::uint32_t crc32_update(std::uint32_t crc, const std::uint8_t* data, std::size_t n);

}  // namespace tml::proto
