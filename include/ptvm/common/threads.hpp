// The library's thread count: PTVM_THREADS when set (an integer in 1..256; anything else is a
// ptvm::Error(Usage) naming the value, never silently ignored), else the hardware concurrency.
#pragma once
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "ptvm/common/error.hpp"

namespace ptvm {

inline constexpr unsigned kMaxThreads = 256;

inline unsigned configured_thread_count() {
  if (const char* env = std::getenv("PTVM_THREADS")) {
    const std::string_view text(env);
    unsigned value = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size() || value < 1 || value > kMaxThreads)
      throw Error(ErrorCategory::Usage, "PTVM_THREADS must be an integer in 1.." + std::to_string(kMaxThreads) +
                                            ", got '" + std::string(text.substr(0, 40)) + "'");
    return value;
  }
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : hc;
}

}  // namespace ptvm
