// Independent oracles for the backend conformance suite: every ptvm::Backend operation recomputed
// from its definition (PROTOCOL.md), one value at a time, sharing no code with the backends beyond
// the field arithmetic, the domain point enumeration and the scalar formulas the backends are
// specified by (stark/fri_math.hpp, air/eval.hpp's DomainEval).
//   * circle polynomials: f(p) = sum_j c_j b_j(p) with b_j the product of the basis factors
//     selected by the bits of j (§3.1), O(N) per point;
//   * row order: row j is the point CanonicCoset(n).at(j); storage position r holds the point
//     CanonicCoset(n).circle_domain().at(bitrev_n(r)) (§2.4, §2.5), matched by point value;
//   * Merkle: node hashes by OpenSSL's BLAKE2s-256 over the prefixed message (§9.1, §9.3);
//   * proof of work: both hashes of hash/pow.hpp by OpenSSL;
//   * LogUp: every fraction of every row recorded and summed with one QM31 inverse each.
#pragma once
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <span>
#include <string>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/point.hpp"
#include "ptvm/field/cm31.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/stark/fri_math.hpp"

namespace ptvm::oracle {

using Column = std::vector<M31>;

// ---- seeded inputs ----------------------------------------------------------------------------

inline M31 random_m31(std::mt19937_64& rng) { return M31::raw(static_cast<uint32_t>(rng() % M31::P)); }
inline QM31 random_qm31(std::mt19937_64& rng) {
  return QM31::from_m31(random_m31(rng), random_m31(rng), random_m31(rng), random_m31(rng));
}
inline Column random_column(std::mt19937_64& rng, uint32_t log_size) {
  Column c(size_t{1} << log_size);
  for (auto& v : c) v = random_m31(rng);
  return c;
}
inline std::vector<Column> random_columns(std::mt19937_64& rng, size_t n, uint32_t log_size) {
  std::vector<Column> cols;
  for (size_t i = 0; i < n; ++i) cols.push_back(random_column(rng, log_size));
  return cols;
}
// A point of C(QM31) off every M31 domain (t random).
inline circle::CirclePoint<QM31> random_qm31_point(std::mt19937_64& rng) {
  return circle::point_from_t(random_qm31(rng));
}

// ---- domains and orders -----------------------------------------------------------------------

// The point held at storage position r of an evaluation on CanonicCoset(log) (bit-reversed).
inline circle::CirclePoint<M31> domain_point(uint32_t log, size_t r) {
  return circle::CanonicCoset{log}.circle_domain().at(circle::bit_reverse_index(r, log));
}
inline std::vector<circle::CirclePoint<M31>> domain_points(uint32_t log) {
  std::vector<circle::CirclePoint<M31>> pts(size_t{1} << log);
  const circle::CircleDomain d = circle::CanonicCoset{log}.circle_domain();
  for (size_t r = 0; r < pts.size(); ++r) pts[r] = d.at(circle::bit_reverse_index(r, log));
  return pts;
}
inline uint64_t point_key(const circle::CirclePoint<M31>& p) { return (uint64_t{p.x.v} << 32) | p.y.v; }

// Storage position of every trace row j (the point CanonicCoset(n).at(j)), found by point value.
inline std::vector<size_t> row_positions(uint32_t n) {
  std::map<uint64_t, size_t> where;
  const auto pts = domain_points(n);
  for (size_t r = 0; r < pts.size(); ++r) where[point_key(pts[r])] = r;
  std::vector<size_t> pos(pts.size());
  const circle::CanonicCoset coset{n};
  for (size_t j = 0; j < pos.size(); ++j) pos[j] = where.at(point_key(coset.at(j)));
  return pos;
}
// Row order -> bit-reversed storage.
inline Column rows_to_storage(const Column& rows) {
  const uint32_t n = static_cast<uint32_t>(std::countr_zero(rows.size()));
  const auto pos = row_positions(n);
  Column out(rows.size());
  for (size_t j = 0; j < rows.size(); ++j) out[pos[j]] = rows[j];
  return out;
}
// On CanonicCoset(e), the storage position of the point one trace row (of a 2^n trace) further:
// the point + CanonicCoset(n).step(), found by point value.
inline std::vector<size_t> next_row_positions(uint32_t n, uint32_t e) {
  std::map<uint64_t, size_t> where;
  const auto pts = domain_points(e);
  for (size_t r = 0; r < pts.size(); ++r) where[point_key(pts[r])] = r;
  const circle::CirclePoint<M31> step = circle::CanonicCoset{n}.step();
  std::vector<size_t> next(pts.size());
  for (size_t r = 0; r < pts.size(); ++r) next[r] = where.at(point_key(pts[r] + step));
  return next;
}

// ---- circle polynomials (§3.1) ----------------------------------------------------------------

// f(p) = sum_j c_j b_j(p), b_j = y^{j_0} x^{j_1} pi(x)^{j_2} ... pi^{n-2}(x)^{j_{n-1}}.
template <class F>
F naive_eval(std::span<const M31> coeffs, const circle::CirclePoint<F>& p) {
  const uint32_t n = static_cast<uint32_t>(std::countr_zero(coeffs.size()));
  std::vector<F> factor(n);  // factor[k]: selected by bit k
  if (n > 0) factor[0] = p.y;
  F x = p.x;
  for (uint32_t k = 1; k < n; ++k) {
    factor[k] = x;
    x = x * x + x * x - F::one();
  }
  F acc = F::zero();
  for (size_t j = 0; j < coeffs.size(); ++j) {
    F b = F::one();
    for (uint32_t k = 0; k < n; ++k)
      if ((j >> k) & 1) b = b * factor[k];
    acc = acc + b * coeffs[j];
  }
  return acc;
}

// ---- BLAKE2s Merkle tree (§9.1, §9.3) by OpenSSL ----------------------------------------------

inline hash::Blake2sHash openssl_blake2s(std::span<const uint8_t> message) {
  hash::Blake2sHash h;
  unsigned int len = 0;
  if (EVP_Digest(message.data(), message.size(), h.bytes.data(), &len, EVP_blake2s256(), nullptr) != 1 || len != 32)
    throw std::runtime_error("OpenSSL BLAKE2s failed");
  return h;
}
inline void put_le32(std::vector<uint8_t>& m, uint32_t v) {
  for (int i = 0; i < 4; ++i) m.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline hash::Blake2sHash merkle_node(const hash::Blake2sHash* left, const hash::Blake2sHash* right,
                                     const std::vector<uint32_t>& values) {
  std::vector<uint8_t> m(64, 0);
  const char* prefix = left ? "node" : "leaf";
  std::copy(prefix, prefix + 4, m.begin());
  if (left) {
    m.insert(m.end(), left->bytes.begin(), left->bytes.end());
    m.insert(m.end(), right->bytes.begin(), right->bytes.end());
  }
  for (uint32_t v : values) put_le32(m, v);
  return openssl_blake2s(m);
}
// The root of the tree over columns (values in the order given) of mixed power-of-two lengths.
inline hash::Blake2sHash merkle_root(const std::vector<Column>& columns) {
  uint32_t max_log = 0;
  for (const auto& c : columns) max_log = std::max<uint32_t>(max_log, std::countr_zero(c.size()));
  std::vector<hash::Blake2sHash> below;
  for (int64_t k = max_log; k >= 0; --k) {
    std::vector<hash::Blake2sHash> layer(size_t{1} << k);
    for (size_t j = 0; j < layer.size(); ++j) {
      std::vector<uint32_t> values;
      for (const auto& c : columns)
        if (c.size() == layer.size()) values.push_back(c[j].v);
      layer[j] = k == int64_t(max_log) ? merkle_node(nullptr, nullptr, values)
                                       : merkle_node(&below[2 * j], &below[2 * j + 1], values);
    }
    below = std::move(layer);
  }
  return below[0];
}
// queried_values of an opening: by log size descending, position ascending, column order (§9.4).
inline std::vector<M31> queried_values(const std::vector<Column>& columns, const hash::QueriesPerLogSize& queries) {
  std::vector<M31> out;
  for (auto it = queries.rbegin(); it != queries.rend(); ++it)
    for (size_t pos : it->second)
      for (const auto& c : columns)
        if (c.size() == (size_t{1} << it->first)) out.push_back(c[pos]);
  return out;
}

// ---- proof of work (hash/pow.hpp) by OpenSSL ---------------------------------------------------

// prefixed = Blake2s(LE32(0x12345678) || digest || LE32(pow_bits)).
inline hash::Blake2sHash pow_prefixed(const hash::Blake2sHash& digest, uint32_t pow_bits) {
  std::array<uint8_t, 40> m{};
  for (int i = 0; i < 4; ++i) m[i] = static_cast<uint8_t>(0x12345678u >> (8 * i));
  std::copy(digest.bytes.begin(), digest.bytes.end(), m.begin() + 4);
  for (int i = 0; i < 4; ++i) m[36 + i] = static_cast<uint8_t>(pow_bits >> (8 * i));
  return openssl_blake2s(m);
}
// Trailing zero bits of the u128 LE integer in bytes [0, 16) of Blake2s(prefixed || LE64(nonce)).
inline uint32_t pow_zeros(const hash::Blake2sHash& prefixed, uint64_t nonce) {
  std::array<uint8_t, 40> m{};
  std::copy(prefixed.bytes.begin(), prefixed.bytes.end(), m.begin());
  for (int i = 0; i < 8; ++i) m[32 + i] = static_cast<uint8_t>(nonce >> (8 * i));
  const hash::Blake2sHash h = openssl_blake2s(m);
  for (uint32_t i = 0; i < 16; ++i)
    if (h.bytes[i]) return 8 * i + static_cast<uint32_t>(std::countr_zero(h.bytes[i]));
  return 128;
}

// ---- LogUp (air/logup.hpp, PROTOCOL.md §12.2) --------------------------------------------------

// Records every fraction of one row (trace rows, row order), nothing paired.
struct RecordingEval {
  using F = M31;
  using EF = QM31;
  const std::vector<Column>* preprocessed_rows;
  const std::vector<Column>* main_rows;
  const std::vector<air::RelationChallenges>* challenges;
  size_t row, n_rows;
  std::vector<QM31> numerators, denominators;

  size_t at(int offset) const { return (row + static_cast<size_t>(offset)) % n_rows; }
  F main(uint32_t c, int offset) const { return main_rows->at(c).at(at(offset)); }
  F preprocessed(uint32_t c, int offset) const { return preprocessed_rows->at(c).at(at(offset)); }
  template <class X>
  void add_constraint(const X&) {}
  template <class Mult, size_t K>
  void add_fraction(uint32_t relation, const Mult& multiplicity, const F (&values)[K]) {
    // d = sum_i alpha^i v_i - z, the powers by repeated multiplication.
    const auto& ch = (*challenges).at(relation);
    QM31 d = -ch.z, power = QM31::one();
    for (size_t i = 0; i < K; ++i) {
      d += power * values[i];
      power = power * ch.alpha;
    }
    numerators.push_back(QM31(multiplicity));
    denominators.push_back(d);
  }
};

// The interaction trace of §12.2 in row order (4 coordinate columns per batch) and the claimed sum.
struct LogupOracle {
  std::vector<Column> rows;  // 4 * B columns, row order
  QM31 claimed_sum;
};
template <class AirT>
LogupOracle logup_oracle(const AirT& air, uint32_t n_batches, const std::vector<Column>& preprocessed_rows,
                         const std::vector<Column>& main_rows, const std::vector<air::RelationChallenges>& challenges) {
  const size_t N = main_rows.at(0).size();
  std::vector<std::vector<QM31>> batch(N, std::vector<QM31>(n_batches));
  std::vector<QM31> row_total(N);
  QM31 total;
  for (size_t r = 0; r < N; ++r) {
    RecordingEval e{&preprocessed_rows, &main_rows, &challenges, r, N, {}, {}};
    air.evaluate(e);
    for (size_t f = 0; f < e.numerators.size(); ++f) {
      const QM31 v = e.numerators[f] * e.denominators[f].inverse();
      batch[r].at(f / 2) += v;
      row_total[r] += v;
    }
    total += row_total[r];
  }
  const QM31 per_row = total * M31::from_u64(N).inverse();
  LogupOracle out{std::vector<Column>(4 * n_batches, Column(N)), total};
  QM31 running;  // C(r) = sum_{r' < r} rowtotal(r') - r * S / N
  for (size_t r = 0; r < N; ++r) {
    for (uint32_t j = 0; j < n_batches; ++j) {
      const QM31 v = j + 1 < n_batches ? batch[r][j] : running - per_row * M31::from_u64(r);
      for (int k = 0; k < 4; ++k) out.rows[4 * j + k][r] = v.coord(k);
    }
    running += row_total[r];
  }
  return out;
}

// ---- constraint composition (§4.3) --------------------------------------------------------------

// (sum_j coefficients[j] C_j(q)) / V_n(q) at every storage position of CanonicCoset(e): the AIR's
// scalar evaluate() on a DomainEval whose next-row positions come from point arithmetic, then the
// boundary constraints and the last LogUp batch; 1/V_n(q) with V_n(q) = pi^{n-1}(q.x).
template <class AirT>
std::vector<Column> composition_oracle(const air::ComponentAdapter<AirT>& component, uint32_t e,
                                       const std::vector<Column>& pre, const std::vector<Column>& main,
                                       const std::vector<Column>& inter, std::span<const M31> public_inputs,
                                       const std::vector<air::RelationChallenges>& challenges,
                                       const std::vector<QM31>& coefficients, const QM31& claimed_sum) {
  const uint32_t n = component.log_rows();
  const size_t size = size_t{1} << e;
  const auto next = next_row_positions(n, e);
  const auto pts = domain_points(e);
  auto ptrs = [](const std::vector<Column>& cols) {
    std::vector<const M31*> p;
    for (const auto& c : cols) p.push_back(c.data());
    return p;
  };
  const auto pre_p = ptrs(pre), main_p = ptrs(main), inter_p = ptrs(inter);
  const QM31 per_row = claimed_sum * M31::from_u64(size_t{1} << n).inverse();
  std::vector<Column> out(4, Column(size));
  for (size_t pos = 0; pos < size; ++pos) {
    air::DomainEval ev{pre_p.data(), main_p.data(), inter_p.data(), challenges.data(), coefficients.data(),
                       per_row, component.shape().n_logup_batches, pos, next[pos], QM31::zero(), 0, {}};
    component.air().evaluate(ev);
    component.add_boundary_and_logup(ev, public_inputs);
    M31 x = pts[pos].x;
    for (uint32_t k = 1; k < n; ++k) x = x * x + x * x - M31::one();
    const QM31 v = ev.accumulator * x.inverse();
    for (int k = 0; k < 4; ++k) out[k][pos] = v.coord(k);
  }
  return out;
}

}  // namespace ptvm::oracle
