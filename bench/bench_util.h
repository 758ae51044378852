// Small helpers shared by the benchmarks.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace ctxd::bench {

// Resident set size of this process, in bytes.
inline uint64_t ResidentBytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// The p-th percentile (0..100) of `samples` (sorted in place).
inline double Percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const size_t i = std::min(samples.size() - 1, static_cast<size_t>(p / 100.0 * samples.size()));
  return samples[i];
}

// A JSON string value of exactly `bytes` bytes (quotes included).
inline std::string JsonValueOfSize(size_t bytes) { return "\"" + std::string(bytes - 2, 'v') + "\""; }

}  // namespace ctxd::bench
