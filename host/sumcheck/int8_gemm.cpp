// Exact int8 GEMMs and M31 products on int8 limbs (see ptvm/sumcheck/int8_gemm.hpp).
#include "ptvm/sumcheck/int8_gemm.hpp"

#include <array>
#include <string>

#include "ptvm/common/error.hpp"

namespace ptvm::sumcheck {
namespace {

class CpuInt8Gemm final : public Int8GemmEngine {
 public:
  std::string name() const override { return "cpu"; }
  void gemm(std::span<const int8_t> a, std::span<const int8_t> bt, std::span<int32_t> c, size_t m, size_t k,
            size_t n) override {
    check_int8_gemm_shape(a, bt, c, m, k, n, "cpu int8 gemm");
    for (size_t i = 0; i < m; ++i) {
      const int8_t* ai = a.data() + i * k;
      for (size_t j = 0; j < n; ++j) {
        const int8_t* bj = bt.data() + j * k;
        int32_t sum = 0;  // exact: |sum| <= k 2^14 < 2^31
        for (size_t l = 0; l < k; ++l) sum += int32_t(ai[l]) * int32_t(bj[l]);
        c[i * n + j] = sum;
      }
    }
  }
};

// Balanced base-256 digits of the centred representative of x.
std::array<int8_t, 4> limbs_of(M31 x) {
  const int64_t v = x.v > M31::P / 2 ? int64_t(x.v) - int64_t(M31::P) : int64_t(x.v);  // |v| < 2^30
  std::array<int8_t, 4> d{};
  if (!split_balanced_int8(v, 4, d.data())) throw Error(ErrorCategory::Internal, "int8 limbs: an M31 value did not fit four limbs");
  return d;
}

}  // namespace

void check_int8_gemm_shape(std::span<const int8_t> a, std::span<const int8_t> bt, std::span<int32_t> c, size_t m,
                           size_t k, size_t n, const char* who) {
  if (k == 0 || k > kInt8GemmMaxK)
    throw Error(ErrorCategory::Usage, std::string(who) + ": k = " + std::to_string(k) +
                                          " (1..2^17 - 1: the int32 sums must stay exact)");
  if (a.size() != m * k || bt.size() != n * k || c.size() != m * n)
    throw Error(ErrorCategory::Usage, std::string(who) + ": buffers of " + std::to_string(a.size()) + ", " +
                                          std::to_string(bt.size()) + ", " + std::to_string(c.size()) +
                                          " entries for m, k, n = " + std::to_string(m) + ", " + std::to_string(k) +
                                          ", " + std::to_string(n));
}

std::unique_ptr<Int8GemmEngine> make_cpu_int8_gemm() { return std::make_unique<CpuInt8Gemm>(); }

std::vector<M31> multiply_m31_by_int8_limbs(const MatrixView& a, const MatrixView& b, Int8GemmEngine& engine) {
  const size_t m = a.rows, k = a.cols, n = b.cols;
  if (b.rows != k || a.values.size() != m * k || b.values.size() != k * n)
    throw Error(ErrorCategory::Usage, "multiply_m31_by_int8_limbs: shapes do not match");
  // A's limbs row-major (m x k); B's limbs by columns (n x k).
  std::array<std::vector<int8_t>, 4> al, bl;
  for (auto& v : al) v.resize(m * k);
  for (auto& v : bl) v.resize(n * k);
  for (size_t i = 0; i < m * k; ++i) {
    const auto d = limbs_of(a.values[i]);
    for (int l = 0; l < 4; ++l) al[l][i] = d[l];
  }
  for (size_t r = 0; r < k; ++r)
    for (size_t j = 0; j < n; ++j) {
      const auto d = limbs_of(b.values[r * n + j]);
      for (int l = 0; l < 4; ++l) bl[l][j * k + r] = d[l];
    }
  // acc[i][j] = sum_{l,m} 256^(l+m) (A_l B_m)[i][j] mod p, kept as a u64 residue sum.
  std::vector<uint64_t> acc(m * n, 0);
  std::vector<int32_t> part(m * n);
  for (int l = 0; l < 4; ++l)
    for (int mm = 0; mm < 4; ++mm) {
      engine.gemm(al[l], bl[mm], part, m, k, n);
      const M31 scale = M31::from_u64(uint64_t{1} << (8 * (l + mm)));  // 256^(l+m) mod p
      for (size_t i = 0; i < m * n; ++i) {
        const M31 term = M31::from_i64(part[i]) * scale;
        acc[i] += term.v;  // 16 terms < 2^31 each: no overflow
      }
    }
  std::vector<M31> c(m * n);
  for (size_t i = 0; i < m * n; ++i) c[i] = M31::from_u64(acc[i]);
  return c;
}

}  // namespace ptvm::sumcheck
