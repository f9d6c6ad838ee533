// Element-wise column kernels against CPU loops over the same field code, byte for byte, at sizes
// around the block size (256) and the grid-stride cap (132 * 16 blocks).
#include <gtest/gtest.h>

#include <cstring>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/column_ops.hpp"

namespace ptvm {
namespace {

using gpu::ColumnOp;
using gpu::DeviceBuffer;

const size_t kSizes[] = {1, 2, 31, 32, 33, 255, 256, 257, 1000, 4099};
const size_t kGridCap = 132 * 16 * 256;  // elements covered by one pass of the capped grid

template <class F>
F apply_cpu(ColumnOp op, F x, F y) {
  return op == ColumnOp::Add ? x + y : op == ColumnOp::Sub ? x - y : x * y;
}

template <class T>
bool same_bytes(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

TEST(ColumnOps, M31BinaryOps) {
  PTVM_REQUIRE_DEVICE();
  std::vector<size_t> sizes(std::begin(kSizes), std::end(kSizes));
  sizes.push_back(kGridCap + 3);
  for (size_t n : sizes)
    for (ColumnOp op : {ColumnOp::Add, ColumnOp::Sub, ColumnOp::Mul}) {
      auto a = test::random_m31(n, n * 3 + 1), b = test::random_m31(n, n * 3 + 2);
      std::vector<M31> expected(n);
      for (size_t i = 0; i < n; ++i) expected[i] = apply_cpu(op, a[i], b[i]);
      auto da = DeviceBuffer<M31>::from_host(a), db = DeviceBuffer<M31>::from_host(b);
      DeviceBuffer<M31> out(n);
      gpu::m31_columns_apply(op, da.cptr(), db.cptr(), out.ptr(), n, nullptr);
      EXPECT_TRUE(same_bytes(out.to_host(), expected)) << "n=" << n << " op=" << int(op);
    }
}

TEST(ColumnOps, QM31BinaryOpsInPlace) {
  PTVM_REQUIRE_DEVICE();
  for (size_t n : kSizes)
    for (ColumnOp op : {ColumnOp::Add, ColumnOp::Sub, ColumnOp::Mul}) {
      auto a = test::random_qm31(n, n * 5 + 1), b = test::random_qm31(n, n * 5 + 2);
      std::vector<QM31> expected(n);
      for (size_t i = 0; i < n; ++i) expected[i] = apply_cpu(op, a[i], b[i]);
      auto da = DeviceBuffer<QM31>::from_host(a), db = DeviceBuffer<QM31>::from_host(b);
      gpu::qm31_columns_apply(op, da.cptr(), db.cptr(), da.ptr(), n, nullptr);  // out aliases a
      EXPECT_TRUE(same_bytes(da.to_host(), expected)) << "n=" << n << " op=" << int(op);
    }
}

TEST(ColumnOps, ScaleAndMixedProducts) {
  PTVM_REQUIRE_DEVICE();
  for (size_t n : kSizes) {
    auto a = test::random_m31(n, n + 11);
    auto q = test::random_qm31(n, n + 12);
    const M31 s = M31::raw(123456789);
    const QM31 t = QM31::from_u32(5, 0x7ffffffe, 77, 1 << 30);
    std::vector<M31> e1(n);
    std::vector<QM31> e2(n), e3(n);
    for (size_t i = 0; i < n; ++i) {
      e1[i] = a[i] * s;
      e2[i] = q[i] * t;
      e3[i] = q[i] * a[i];
    }
    auto da = DeviceBuffer<M31>::from_host(a);
    auto dq = DeviceBuffer<QM31>::from_host(q);
    DeviceBuffer<M31> o1(n);
    DeviceBuffer<QM31> o2(n), o3(n);
    gpu::m31_column_scale(da.cptr(), s, o1.ptr(), n, nullptr);
    gpu::qm31_column_scale(dq.cptr(), t, o2.ptr(), n, nullptr);
    gpu::qm31_column_mul_m31(dq.cptr(), da.cptr(), o3.ptr(), n, nullptr);
    EXPECT_TRUE(same_bytes(o1.to_host(), e1)) << "n=" << n;
    EXPECT_TRUE(same_bytes(o2.to_host(), e2)) << "n=" << n;
    EXPECT_TRUE(same_bytes(o3.to_host(), e3)) << "n=" << n;
  }
}

TEST(ColumnOps, BatchApplyWithStride) {
  PTVM_REQUIRE_DEVICE();
  for (size_t n_columns : {1, 3, 7})
    for (size_t length : {1, 33, 257, 1000}) {
      const size_t stride = length + 5;  // gaps between columns must stay untouched
      const size_t total = n_columns * stride;
      auto a = test::random_m31(total, length * 7 + n_columns);
      auto b = test::random_m31(total, length * 7 + n_columns + 100);
      auto out_init = test::random_m31(total, 999);
      std::vector<M31> expected = out_init;
      for (size_t c = 0; c < n_columns; ++c)
        for (size_t i = 0; i < length; ++i)
          expected[c * stride + i] = a[c * stride + i] * b[c * stride + i];
      auto da = DeviceBuffer<M31>::from_host(a), db = DeviceBuffer<M31>::from_host(b);
      auto dout = DeviceBuffer<M31>::from_host(out_init);
      gpu::m31_batch_apply(ColumnOp::Mul, da.cptr(), db.cptr(), dout.ptr(), n_columns, length,
                           stride, nullptr);
      EXPECT_TRUE(same_bytes(dout.to_host(), expected))
          << "columns=" << n_columns << " length=" << length;
    }
}

TEST(ColumnOps, AccumulateLinearCombination) {
  PTVM_REQUIRE_DEVICE();
  for (size_t n_columns : {1, 5, 33})
    for (size_t length : {1, 31, 256, 513}) {
      const size_t stride = length;
      auto cols = test::random_m31(n_columns * stride, length + n_columns);
      auto coeffs = test::random_qm31(n_columns, 42 + n_columns);
      auto acc = test::random_qm31(length, 7 + length);
      std::vector<QM31> expected = acc;
      for (size_t i = 0; i < length; ++i)
        for (size_t c = 0; c < n_columns; ++c) expected[i] += coeffs[c] * cols[c * stride + i];
      auto dcols = DeviceBuffer<M31>::from_host(cols);
      auto dcoeffs = DeviceBuffer<QM31>::from_host(coeffs);
      auto dacc = DeviceBuffer<QM31>::from_host(acc);
      gpu::qm31_accumulate_m31_batch(dacc.ptr(), dcols.cptr(), dcoeffs.cptr(), n_columns, length,
                                     stride, nullptr);
      EXPECT_TRUE(same_bytes(dacc.to_host(), expected))
          << "columns=" << n_columns << " length=" << length;
    }
}

TEST(ColumnOps, RejectsBadBatchLayout) {
  PTVM_REQUIRE_DEVICE();
  DeviceBuffer<M31> a(16);
  EXPECT_THROW(gpu::m31_batch_apply(ColumnOp::Add, a.cptr(), a.cptr(), a.ptr(), 2, 8, 4, nullptr),
               Error);
}

}  // namespace
}  // namespace ptvm
