// Circle FFT over M31 on the device (kernels/fft/circle_fft.cu): the same transforms as
// ptvm::circle::circle_evaluate_bitrev / circle_interpolate_bitrev, byte for byte.
//
// Orders (PROTOCOL.md 3.1-3.4): coefficients in the circle-FFT basis order; values on
// CanonicCoset(log_size).circle_domain() in BIT-REVERSED circle-domain order.
//
// Structure: every pass is a shared-memory tile kernel. The inner pass does layers 0..B-1 (the
// circle layer and the low line layers) on contiguous tiles of 2^B values; outer passes do up to R
// higher layers at a time on tiles gathered with a stride (8 consecutive columns x 2^R rows, so
// every warp access still covers whole 32-byte sectors). Twiddles are not read from memory: each
// tile computes the pieces of the TwiddleTree slices it needs from circle points (one point
// addition per entry of its lowest layer, the doubling map for the others, a batch inversion for
// the inverse transform). A 2^24 transform is two passes (B = 13, R = 11), i.e. it moves twice
// the bytes of one read and one write of the data.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "ptvm/circle/fft.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"
#include "ptvm/gpu/merkle.hpp"
#include "ptvm/gpu/runtime.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// The twiddle tree as the device transforms use it: only its root coset (which canonic domains
// it serves); the kernels compute the twiddle values themselves, equal to tree.twiddles /
// tree.itwiddles. upload() checks the tree's shape.
struct DeviceTwiddles {
  circle::Coset root_coset;

  static DeviceTwiddles upload(const circle::TwiddleTree& tree, stream_t stream = nullptr);
  uint32_t max_domain_log() const { return root_coset.log_size + 1; }
};

// Tile shape of the passes. The default is the production shape; tests pass smaller ones so that
// multi-pass plans run at small sizes.
struct CircleFftTiling {
  uint32_t inner_log = 13;    // values per inner tile: 2^inner_log (32 KiB + twiddles)
  uint32_t outer_layers = 11;  // layers per outer pass
  uint32_t outer_width = 8;    // consecutive columns per outer tile (8 x 4 bytes = one sector)
};

// In place on data[0, 2^log_size): coefficients -> bit-reversed values. 1 <= log_size <=
// twiddles.max_domain_log(); throws ptvm::Error (Usage) otherwise.
void circle_evaluate_bitrev_inplace(gptr<M31> data, uint32_t log_size, const DeviceTwiddles& twiddles,
                                    stream_t stream, const CircleFftTiling& tiling = {});
// In place: bit-reversed values -> coefficients (including the 1/N).
void circle_interpolate_bitrev_inplace(gptr<M31> data, uint32_t log_size,
                                       const DeviceTwiddles& twiddles, stream_t stream,
                                       const CircleFftTiling& tiling = {});
// Out of place: values[0, 2^log_size) from n_coeffs <= 2^log_size coefficients (zero-padded).
void circle_evaluate_bitrev(gptr<const M31> coeffs, size_t n_coeffs, gptr<M31> values,
                            uint32_t log_size, const DeviceTwiddles& twiddles, stream_t stream,
                            const CircleFftTiling& tiling = {});
// Out of place: coeffs[0, 2^log_size) from bit-reversed values.
void circle_interpolate_bitrev(gptr<const M31> values, gptr<M31> coeffs, uint32_t log_size,
                               const DeviceTwiddles& twiddles, stream_t stream,
                               const CircleFftTiling& tiling = {});

// One column of a many-column transform: dst (2^log_size values) is transformed in place after its
// first pass read src[0, n_src) and zeros above (src == nullptr: dst is read).
struct FftColumnIo {
  const M31* src;
  uint64_t n_src;
  M31* dst;
};
// The transform (inverse: interpolation, with the 1/N) of n_columns columns of one log size, a
// device table of FftColumnIo: one launch per pass for all of them (gridDim.y = columns, split at
// kMaxGridY). Out of place with zero-padding, as circle_evaluate_bitrev / circle_interpolate_bitrev.
void circle_transform_many(gptr<const FftColumnIo> columns, uint32_t n_columns, uint32_t log_size, bool inverse,
                           const DeviceTwiddles& twiddles, stream_t stream, const CircleFftTiling& tiling = {});

// The low-degree extension of trees' columns fused with their Merkle leaves: every column of
// `columns` (one log size, out of place with zero-padding, as circle_transform_many forward) is
// evaluated, and tree t's leaf layer (8 * 2^log_size words, word-major, at leaf_words) is hashed
// from its columns [first_column, first_column + n_columns) in that order, exactly as
// blake2s_merkle_layer hashes a largest layer (DeviceMerkleTree::commit_many takes it as given).
// The outer passes are circle_transform_many's; the last pass (tiles of at most 2^11 rows) also
// hashes the rows it produces (circle_evaluate_leaves_many_kernel, one launch for all trees,
// gridDim.y = trees split at kMaxGridY), so the LDE is not read again for its leaves. The host
// tables are uploaded here; returns when the device is done.
struct LdeLeafTree {
  uint32_t first_column, n_columns;  // n_columns >= 1
  uint32_t* leaf_words;
};
void circle_evaluate_leaves_many(std::span<const FftColumnIo> columns, std::span<const LdeLeafTree> trees, uint32_t log_size,
                                 const DeviceTwiddles& twiddles, stream_t stream, const CircleFftTiling& tiling = {});
// Some layers of a transform, on one block of it (the local steps of the four-step transform of
// ptvm/shard/sharded_backend.hpp, one rank's block or cyclic part of a sharded column): layers
// [lo, hi) of the transform of 2^n values applied in place to the 2^block_log values at global
// indices block * 2^block_log + i (hi <= block_log <= n, so no butterfly leaves the block); the
// forward transform runs them from hi - 1 down, the inverse from lo up. line_only: layer 0 is a
// line layer too (its twiddles those of layer 0 of the line of 2^n values, i.e. layer s of the
// 2^(n+s) circle transform whose cyclic part this is), not the circle layer. Every value is
// multiplied by `scale` at the end (the inverse's 2^-N of the whole transform).
struct FftLayerRange {
  uint32_t n = 0, block_log = 0;
  uint64_t block = 0;
  uint32_t lo = 0, hi = 0;
  bool line_only = false;
  M31 scale = M31::one();
};
// Throws ptvm::Error (Usage) on a range outside the transform or the block, or twiddles too small.
void circle_fft_layers(gptr<M31> block, const FftLayerRange& range, bool inverse, const DeviceTwiddles& twiddles,
                       stream_t stream, const CircleFftTiling& tiling = {});

PTVM_GPU_NAMESPACE_END
