// The forward pass's matrix products through an int8 GEMM engine (Graph::forward's `gemm`): the
// limb split at every limb boundary, both product layouts, the fallback for operands beyond four
// limbs, and a whole block with the same values (so the same proof) as the direct products.
#include <gtest/gtest.h>

#include <memory>

#include "ptvm/sumcheck/int8_gemm.hpp"
#include "ptvm/zkml/block.hpp"
#include "ptvm/zkml/graph.hpp"

namespace ptvm::zkml {
namespace {

// The CPU reference GEMM, counting its calls.
class CountingGemm final : public sumcheck::Int8GemmEngine {
 public:
  std::string name() const override { return "counting cpu"; }
  void gemm(std::span<const int8_t> a, std::span<const int8_t> bt, std::span<int32_t> c, size_t m, size_t k,
            size_t n) override {
    ++calls;
    cpu_->gemm(a, bt, c, m, k, n);
  }
  size_t calls = 0;

 private:
  std::unique_ptr<sumcheck::Int8GemmEngine> cpu_ = sumcheck::make_cpu_int8_gemm();
};

// Y = A B (A: 4 x 8 Input, B: 8 x 4 Weight) and Z = A C^T (C: 4 x 8 Weight).
struct Products {
  Graph g;
  TensorId a, b, c, y, z;
  Products() {
    a = g.add_tensor("a", 2, 3, TensorKind::Input);
    b = g.add_tensor("b", 3, 2, TensorKind::Weight);
    c = g.add_tensor("c", 2, 3, TensorKind::Weight);
    y = g.matmul("y", a, b);
    z = g.matmul("z", a, c, true);
    g.set_output(z);
  }
};

// Entries on both sides of every limb count's reach (127 (256^n - 1) / 255 for n limbs).
std::vector<int64_t> boundary_values(size_t n, int64_t scale_down) {
  const int64_t edges[] = {0, 1, -1, 127, 128, -128, -129, 32639, 32640, -32640, -32641, 8355711, 8355712,
                           -8355712, -8355713, 255, -256, 65535};
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = edges[(i * 7 + 3) % std::size(edges)] / scale_down;
  return v;
}

TEST(ZkmlForwardGemm, LimbProductsEqualTheDirectOnesAtEveryLimbBoundary) {
  Products p;
  for (int64_t scale_down : {int64_t{1}, int64_t{300}, int64_t{70000}}) {  // 4-, 2- and 1-limb operands
    Values direct(p.g.tensors().size());
    direct[p.a] = boundary_values(32, scale_down);
    direct[p.b] = boundary_values(32, 1);
    direct[p.c] = boundary_values(32, scale_down);
    for (auto& x : direct[p.c]) x = -x;
    Values limbs = direct;
    p.g.forward(direct, false);
    CountingGemm engine;
    p.g.forward(limbs, false, &engine);
    EXPECT_EQ(limbs[p.y], direct[p.y]) << "scale_down " << scale_down;
    EXPECT_EQ(limbs[p.z], direct[p.z]) << "scale_down " << scale_down;
    // One GEMM per pair of limbs: a and c need 4, 2 or 1 limbs, b needs 4.
    const size_t la = scale_down == 1 ? 4 : scale_down == 300 ? 2 : 1;
    EXPECT_EQ(engine.calls, la * 4 + la * la) << "scale_down " << scale_down;
  }
}

TEST(ZkmlForwardGemm, OperandsBeyondFourLimbsAreMultipliedDirectly) {
  Products p;
  Values direct(p.g.tensors().size());
  direct[p.a] = boundary_values(32, 1);
  direct[p.a][5] = int64_t{1} << 33;  // five limbs (the non-strict pass lets it through)
  direct[p.b] = boundary_values(32, 1);
  direct[p.c] = boundary_values(32, 1);
  Values limbs = direct;
  p.g.forward(direct, false);
  CountingGemm engine;
  p.g.forward(limbs, false, &engine);
  EXPECT_EQ(limbs[p.y], direct[p.y]);
  EXPECT_EQ(limbs[p.z], direct[p.z]);
  EXPECT_EQ(engine.calls, 0u) << "a five-limb operand must not reach the int8 engine";
}

TEST(ZkmlForwardGemm, ABlockGetsTheSameValuesThroughTheEngine) {
  const TransformerBlock block = transformer_block(64, 2, 1, 32, 128, 8);
  Values direct = random_model(block, 5);
  direct[block.input] = random_input(block, 5);
  Values limbs = direct;
  block.graph.forward(direct);
  CountingGemm engine;
  block.graph.forward(limbs, true, &engine);
  EXPECT_GT(engine.calls, 0u);
  ASSERT_EQ(limbs.size(), direct.size());
  for (size_t t = 0; t < direct.size(); ++t)
    EXPECT_EQ(limbs[t], direct[t]) << "tensor " << block.graph.tensors()[t].name;
}

}  // namespace
}  // namespace ptvm::zkml
