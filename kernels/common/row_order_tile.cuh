// Tiles of the row-order <-> storage-order permutation of CanonicCoset(log_size): row j is stored
// at position row_position(j) = bit_reverse(coset_index_to_circle_domain_index(j)) (PROTOCOL.md 2.4,
// 2.5). A kernel that reads a column in one order and writes it in the other loads a tile's values
// as runs of consecutive rows, transposes them in shared memory and stores them as runs of
// consecutive positions, so both sides are coalesced (a plain per-element permutation touches one
// sector per lane on one side).
//
// Rows j = 2q + e (q < 2^L, L = log_size - 1) are stored at 2 brev_L(q) for e = 0 and at
// 2 brev_L(~q) + 1 for e = 1. Split q = (a, m, c), a and c of kRowTileBits bits, m the middle
// L - 2 kRowTileBits bits: the rows of middle parts m and ~m, both parities (2^(2 kRowTileBits + 2)
// rows, runs of 2^(kRowTileBits + 1) consecutive rows) are exactly the positions of middle parts
// brev(m) and brev(~m), both parities (runs of 2^(kRowTileBits + 1) consecutive positions). Tile
// `index` < tiles() is the pair (m, ~m) with m = index (the top middle bit 0). Columns of log_size
// <= kRowTileMaxLog are one tile: the whole column.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ptvm/circle/domain.hpp"
#include "ptvm/common/hd.hpp"

namespace ptvm::kernels {

inline constexpr uint32_t kRowTileBits = 4;
inline constexpr uint32_t kRowTileMaxLog = 2 * kRowTileBits + 2;
inline constexpr uint32_t kRowTile = 1u << kRowTileMaxLog;  // values per tile (1024)

struct RowOrderTile {
  uint32_t log_size = 0, mid = 0;
  size_t m = 0, brev_m = 0, mid_mask = 0;
  static constexpr size_t kLowMask = (size_t{1} << kRowTileBits) - 1;

  PTVM_HD RowOrderTile(uint32_t log_size_, size_t index) : log_size(log_size_) {
    if (!whole()) {
      mid = log_size - 1 - 2 * kRowTileBits;
      mid_mask = (size_t{1} << mid) - 1;
      m = index;
      brev_m = circle::bit_reverse_index(m, mid);
    }
  }
  PTVM_HD bool whole() const { return log_size <= kRowTileMaxLog; }
  PTVM_HD static size_t tiles(uint32_t log_size) {
    return log_size <= kRowTileMaxLog ? 1 : size_t{1} << (log_size - 2 - 2 * kRowTileBits);
  }
  PTVM_HD uint32_t size() const { return whole() ? 1u << log_size : kRowTile; }
  // Row of tile element t: t = (which, a, c, e), consecutive t are consecutive rows in runs.
  PTVM_HD size_t row(uint32_t t) const {
    if (whole()) return t;
    const size_t e = t & 1, c = (t >> 1) & kLowMask, a = (t >> (kRowTileBits + 1)) & kLowMask;
    const size_t middle = (t >> (2 * kRowTileBits + 1)) ? ~m & mid_mask : m;
    return 2 * ((a << (kRowTileBits + mid)) | (middle << kRowTileBits) | c) + e;
  }
  // Slot (< size()) of a storage position of the tile.
  PTVM_HD uint32_t slot(size_t pos) const {
    if (whole()) return static_cast<uint32_t>(pos);
    const size_t r = pos >> 1;
    const size_t which = ((r >> kRowTileBits) & mid_mask) == brev_m ? 0 : kRowTile / 2;
    return static_cast<uint32_t>(which | ((r >> (kRowTileBits + mid)) << (kRowTileBits + 1)) | ((r & kLowMask) << 1) |
                                 (pos & 1));
  }
  // Storage position of slot s: consecutive s are consecutive positions in runs.
  PTVM_HD size_t position(uint32_t s) const {
    if (whole()) return s;
    const size_t middle = s < kRowTile / 2 ? brev_m : ~brev_m & mid_mask;
    const size_t x = (s >> (kRowTileBits + 1)) & kLowMask, y = (s >> 1) & kLowMask;
    return (((((x << mid) | middle) << kRowTileBits) | y) << 1) | (s & 1);
  }
};

// Storage position of row j of CanonicCoset(log_size).
PTVM_HD PTVM_FORCEINLINE size_t row_storage_position(size_t j, uint32_t log_size) {
  return circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, log_size), log_size);
}

}  // namespace ptvm::kernels
