// CRC-32C (Castagnoli), the checksum of events and snapshots: the SSE 4.2
// instruction where the CPU has it, slicing-by-8 tables otherwise. Both give
// identical results. Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace ctxd {

uint32_t Crc32c(std::string_view data);

}  // namespace ctxd
