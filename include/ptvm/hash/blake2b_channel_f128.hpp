// F128 challenges from the Blake2bChannel: the channel's unbiased integers in [0, p) as field
// elements (F128 keeps Montgomery form; the integer is the element's canonical value).
#pragma once
#include <vector>

#include "ptvm/field/f128.hpp"
#include "ptvm/hash/blake2b_channel.hpp"

namespace ptvm::hash {

inline std::vector<F128> draw_f128_felts(Blake2bChannel& channel, size_t n) {
  std::vector<F128> felts;
  felts.reserve(n);
  for (const F128Integer& v : channel.draw_f128_values(n)) {
    felts.push_back(F128::from_canonical_words_unchecked(v.lo, v.hi));
  }
  return felts;
}
inline F128 draw_f128_felt(Blake2bChannel& channel) { return draw_f128_felts(channel, 1)[0]; }

}  // namespace ptvm::hash
