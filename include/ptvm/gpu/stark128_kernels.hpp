// Kernels of the F128 STARK's CUDA backend (kernels/stark128/f128_stark.cu and vm_air128.cu); the
// backend itself is ptvm/gpu/stark128_backend.hpp. Each launcher computes what the CPU backend's
// operation computes (host/stark128/cpu_backend.cpp), value for value: the field arithmetic is
// exact, so the order of additions does not matter and the results are bit-identical.
// Orders: see ptvm/stark128/backend.hpp (LDE values bit-reversed on their coset).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/field/f128.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/hash/blake2b.hpp"
#include "ptvm/stark128/air128.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// A device F128 column (plain data, for argument tables).
struct DeviceF128ColumnRef {
  const F128* data;
  uint64_t length;
};

// out[bitrev(i)] = in[i], i < 2^log_n (out != in).
void f128_bit_reverse(gptr<const F128> in, gptr<F128> out, uint32_t log_n, stream_t stream);
// The canonical 16-byte little-endian image of each value (F128 is kept in Montgomery form), 4
// words per value, column c (all of length n) at words [4 n c, 4 n (c + 1)): the leaves the
// BLAKE2b Merkle tree hashes (ptvm/gpu/merkle_blake2b.hpp). One launch per 65535 columns.
void f128_to_canonical(std::span<const DeviceF128ColumnRef> columns, gptr<uint32_t> out_words, stream_t stream);
// out[i] = in[first + i], i < n.
void f128_copy(gptr<const F128> in, size_t first, gptr<F128> out, size_t n, stream_t stream);

// One polynomial (its coefficients on the device) at one point.
struct F128PointRequest {
  DeviceF128ColumnRef coefficients;
  F128 point;
};
// p(point) per request (chunked Horner: partial sums of 64 coefficients, then one sum per request).
std::vector<F128> f128_evaluate_at_points(std::span<const F128PointRequest> requests, stream_t stream);

// DEEP quotient on D = g <w_{2^log_lde}> (bit-reversed): the samples grouped by point, group p =
// samples [first, first + count) with offset_p = sum weight * value over them:
//   out[pos] = sum_p (sum_k weight_k col_k[pos] - offset_p) / (x_pos - point_p).
struct F128DeepSample {
  DeviceF128ColumnRef column;
  F128 weight;
};
struct F128DeepPoint {
  F128 point, offset;
  uint32_t first, count;
};
inline constexpr uint32_t kMaxDeepPoints = 32;
void f128_deep_quotient(uint32_t log_lde, std::span<const F128DeepSample> samples,
                        std::span<const F128DeepPoint> points, gptr<F128> out, stream_t stream);

// FRI fold of a layer of 2^log_m values on offset <w_{2^log_m}> (bit-reversed):
//   out[j] = (a + b)/2 + beta (a - b) / (2 x_j), a = in[2j], b = in[2j+1], x_j = offset w^bitrev(j).
void f128_fri_fold(gptr<const F128> in, uint32_t log_m, F128 offset, F128 beta, gptr<F128> out, stream_t stream);

// The statement-v1 proof of work (host/stark128/protocol.hpp pow_hash / pow_ok): the smallest
// nonce whose BLAKE2b-256(LE32(0x12345678) ‖ digest ‖ LE32(pow_bits) ‖ LE64(nonce)) has pow_bits
// trailing zero bits (its first 16 bytes as a 128-bit LE integer). Windows of nonces_per_launch
// in increasing order; pow_bits <= 40.
uint64_t f128_pow_grind(const hash::Blake2b256Hash& digest, uint32_t pow_bits, stream_t stream,
                        uint64_t nonces_per_launch = 0);

// One word of a device buffer, for gathers.
struct DeviceWordRef {
  const uint32_t* base;
  uint64_t length;  // of the buffer, in words
  uint64_t index;
};
// out[i] = refs[i].base[refs[i].index], one launch and one download.
std::vector<uint32_t> gather_words(std::span<const DeviceWordRef> refs, stream_t stream);

// The composition of one component of an F128 AIR on D (stark128::Component128::eval_domain at
// every position, divided by the vanishing polynomial) added into `h`.
struct DeviceBoundary128 {
  uint32_t selector_column;  // preprocessed column of the boundary row's selector
  uint32_t main_column;
  uint32_t public_input;
};
struct Composition128Args {
  gptr<const DeviceF128ColumnRef> preprocessed, main, interaction;  // this component's columns on D
  gptr<const stark128::RelationChallenges128> challenges;
  gptr<const F128> coefficients;   // this component's lambda^j
  gptr<const F128> van_inv;        // 1 / (x^{2^log_rows} - 1) by natural index mod 2^(log_lde - log_rows)
  gptr<const DeviceBoundary128> boundaries;
  gptr<const F128> public_inputs;
  F128 sum_per_row;
  uint32_t n_boundaries = 0, logup_batches = 0, log_lde = 0, log_rows = 0;
  gptr<F128> h;  // 2^log_lde values, bit-reversed
};
// The launcher for the components of one AIR type (stark128::ComponentAdapter128<AirT>).
struct Device128AirKernels {
  const char* air_name;
  bool (*matches)(const stark128::Component128& component);
  void (*add_composition)(const stark128::Component128& component, const Composition128Args& args, stream_t stream);
};
// The VM AIR's four component types (ptvm/vmair/vm_air.hpp) over F128.
std::vector<Device128AirKernels> vm_air128_kernels();
// The example AIRs over F128 (ptvm/air/examples/wide_fibonacci.hpp).
std::vector<Device128AirKernels> example_air128_kernels();

PTVM_GPU_NAMESPACE_END
