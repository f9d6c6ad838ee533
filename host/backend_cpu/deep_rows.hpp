// Internal: the DEEP quotient rows of the CPU backend (PROTOCOL.md §6, stark::DeepBatch), over
// `size` consecutive storage positions: point_at(q) is the domain point of local position q and
// column_data[c] + q the column values there. CpuBackend::deep_quotients calls it on a whole
// domain, the sharded backend on its block.
#pragma once
#include "cpu_backend_impl.hpp"

namespace ptvm::backend_cpu {

template <class PointAt>
void deep_quotient_rows(size_t size, PointAt point_at,
                        const std::vector<DeepQuotientBatch>& batches,
                        const std::vector<const M31*>& column_data, M31* const out[4]) {
  // Sub-blocks of at most 1024 positions: per batch, the denominators D(q) of the sub-block are
  // inverted together (Montgomery's trick). Then each 16 positions are one packed step: per
  // batch, the column sum sum_k coef_k f_k(q) is accumulated in four registers of unreduced
  // 64-bit lanes (one fold per product, one reduction per batch), the numerator completed
  // (stark::DeepBatch::numerator, packed), multiplied by 1/D and combined by Horner.
  constexpr size_t kLanes = air::PackedM31::kLanes;
  constexpr size_t kSubBlock = 1024;
  if (size < kLanes) {
    for (size_t q = 0; q < size; ++q) {
      auto pt = point_at(q);
      QM31 acc;
      size_t column_index = 0;
      bool first = true;
      for (const auto& batch : batches) {
        const auto& co = batch.coefficients;
        const size_t base = column_index;
        QM31 num = co.numerator(pt.y, [&](size_t k) { return column_data[base + k][q]; });
        column_index += batch.columns.size();
        QM31 term = num * co.denominator(pt.x, pt.y).inverse();
        acc = first ? term : acc * co.alpha_pow_m + term;
        first = false;
      }
      for (int k = 0; k < 4; ++k)
        out[k][q] = acc.coord(k);
    }
    return;
  }
  parallel_for(size / kLanes, 64, [&](size_t b0, size_t b1) {
    const size_t cap = std::min(kSubBlock, (b1 - b0) * kLanes);
    std::vector<CM31> den(cap), den_inv(cap);
    std::vector<M31> qx(cap), qy(cap);
    std::vector<std::vector<M31>> inv_re(batches.size(), std::vector<M31>(cap)),
        inv_im(batches.size(), std::vector<M31>(cap));
    for (size_t begin = b0 * kLanes; begin < b1 * kLanes; begin += cap) {
      const size_t len = std::min(cap, b1 * kLanes - begin);
      for (size_t i = 0; i < len; ++i) {
        auto q = point_at(begin + i);
        qx[i] = q.x;
        qy[i] = q.y;
      }
      for (size_t bi = 0; bi < batches.size(); ++bi) {
        const auto& co = batches[bi].coefficients;
        for (size_t i = 0; i < len; ++i)
          den[i] = co.denominator(qx[i], qy[i]);
        batch_inverse_raw(den.data(), den_inv.data(), den_inv.data(), len);
        for (size_t i = 0; i < len; ++i) {
          inv_re[bi][i] = den_inv[i].a;
          inv_im[bi][i] = den_inv[i].b;
        }
      }
      for (size_t i = 0; i < len; i += kLanes) {
        const air::PackedM31 y = air::PackedM31::load(qy.data() + i);
        air::PackedQM31 acc;
        size_t column_index = 0;
        for (size_t bi = 0; bi < batches.size(); ++bi) {
          const auto& batch = batches[bi];
          const auto& co = batch.coefficients;
          air::PackedWide sum[4] = {};
          for (size_t c = 0; c < batch.columns.size(); ++c, ++column_index) {
            const air::PackedM31 v = air::PackedM31::load(column_data[column_index] + begin + i);
            const QM31& coef = co.column_coefficients[c];
            for (int k = 0; k < 4; ++k)
              sum[k].add_folded_product(v, air::PackedM31(coef.coord(k)));
          }
          air::PackedQM31 num(-co.b_sum);
          num.add_product(-co.a_sum, y);
          for (int k = 0; k < 4; ++k)
            num.c[k] += sum[k].reduce();
          const air::PackedQM31 term =
              air::PackedQM31::mul_cm31(num, air::PackedM31::load(inv_re[bi].data() + i),
                                        air::PackedM31::load(inv_im[bi].data() + i));
          acc = bi == 0 ? term : acc * co.alpha_pow_m + term;
        }
        for (int k = 0; k < 4; ++k)
          acc.c[k].store(out[k] + begin + i);
      }
    }
  });
}

} // namespace ptvm::backend_cpu
