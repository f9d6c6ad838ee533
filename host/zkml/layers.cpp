// The zkML layers (layers.hpp).
#include "ptvm/zkml/layers.hpp"

#include <cmath>
#include <functional>

#include "ptvm/common/error.hpp"

namespace ptvm::zkml {
namespace {

constexpr int64_t kClampMin = -2048, kClampSize = 4096;
constexpr uint32_t kExpDomainBits = 9;  // d in [0, 512)

int64_t round_half_up(double v) { return static_cast<int64_t>(std::floor(v + 0.5)); }

const TensorInfo& info(const Graph& g, TensorId t) { return g.tensors()[t]; }

TensorId advice_like(Graph& g, const std::string& name, uint32_t lr, uint32_t lc) {
  return g.add_tensor(name, lr, lc, TensorKind::Advice);
}

// A public tensor shared by every layer that asks for the same name.
// exact(i, j): the real value the integer rounds (the float reference's), when there is one.
template <class Fn>
TensorId shared_public(Graph& g, const std::string& name, uint32_t lr, uint32_t lc, Fn value,
                       std::function<double(size_t, size_t)> exact = {}) {
  if (auto t = g.find(name)) return *t;
  std::vector<int64_t> v(size_t{1} << (lr + lc));
  std::vector<double> f;
  if (exact) f.resize(v.size());
  for (size_t i = 0; i < (size_t{1} << lr); ++i)
    for (size_t j = 0; j < (size_t{1} << lc); ++j) {
      v[(i << lc) + j] = value(i, j);
      if (exact) f[(i << lc) + j] = exact(i, j);
    }
  return g.add_public(name, lr, lc, std::move(v), std::move(f));
}

double activation_float(Activation a, double x) {
  const double u = x / 16.0;
  switch (a) {
    case Activation::ReLU: return x > 0 ? x : 0;
    case Activation::GELU: return 16.0 * 0.5 * u * (1.0 + std::erf(u / std::sqrt(2.0)));
    case Activation::SiLU: return 16.0 * u / (1.0 + std::exp(-u));
    case Activation::Sigmoid: return 128.0 / (1.0 + std::exp(-u));
  }
  return 0;
}

}  // namespace

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::ReLU: return "relu";
    case Activation::GELU: return "gelu";
    case Activation::SiLU: return "silu";
    case Activation::Sigmoid: return "sigmoid";
  }
  return "?";
}

namespace {

// The tables' integer arithmetic (no libm: every platform builds the same tables). Fixed point Q64:
// 2^64 = 1.0, in unsigned __int128.
using u128 = unsigned __int128;
using i128 = __int128;
constexpr u128 kOne = u128(1) << 64;
constexpr uint64_t kExpMinusSixteenth = 0xf07d5fde38151e73ull;  // round(2^64 e^(-1/16))
constexpr uint64_t kGeluK = 0x0cc42299ea1b2847ull;             // round(2^64 / (8 sqrt(2 pi)))

// e^(-k/16) in Q64 for k >= 0 (square-and-multiply, each product rounded: error < 2^-56).
u128 exp_neg_sixteenths(uint64_t k) {
  u128 result = kOne, base = kExpMinusSixteenth;
  const u128 half = u128(1) << 63;
  while (k) {
    if (k & 1) result = (result * base + half) >> 64;
    k >>= 1;
    if (k) base = (base * base + half) >> 64;
  }
  return result;
}

i128 floor_div(i128 a, i128 b) {  // b > 0
  i128 q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}
// floor(num / den + 1/2) for den > 0: the tables' round().
int64_t round_ratio(i128 num, i128 den) { return int64_t(floor_div(2 * num + den, 2 * den)); }

uint64_t isqrt(uint64_t y) {
  uint64_t s = uint64_t(std::sqrt(double(y)));  // a first guess, corrected exactly below
  while (s > 0 && u128(s) * s > y) --s;
  while (u128(s + 1) * (s + 1) <= y) ++s;
  return s;
}

// 16 gelu(x / 16) rounded, x in [-128, 128): 0.5 x + 0.5 x^2 K S with erf(z) = (2 / sqrt(pi)) z S,
// S = sum_n (-1)^n (z^2)^n / (n! (2n + 1)), z^2 = x^2 / 512 (exact), K = 1 / (8 sqrt(2 pi)). For
// |x| >= 96 (z > 4.2, erfc(z) < 3e-9) the value is within 2e-7 of max(x, 0), which it rounds to.
int64_t gelu_int(int64_t x) {
  if (x >= 96) return x;
  if (x <= -96) return 0;
  const u128 x2 = u128(x * x);
  i128 sum = 0;
  u128 term = kOne;  // (z^2)^n / n! in Q64 (below 2^88 for |x| < 96)
  for (uint64_t n = 0; term != 0; ++n) {
    const i128 t = i128(term / (2 * n + 1));
    sum += (n & 1) ? -t : t;
    term = term * x2 / (512 * (n + 1));
  }
  const u128 sk = (u128(sum) * kGeluK) >> 64;  // S K in Q64 (S in (0, 1])
  const i128 y = (i128(x) << 63) + ((i128(x2) * i128(sk)) >> 1);
  return int64_t(floor_div(y + (i128(1) << 63), i128(kOne)));
}

}  // namespace

int64_t activation_value(Activation a, int64_t x) {
  // q = e^(-|x|/16) in Q64; for x < 0, e^(-x/16) = 1 / q, so x / (1 + e^(-x/16)) = x q / (1 + q).
  const bool needs_exp = a == Activation::SiLU || a == Activation::Sigmoid;
  const u128 q = needs_exp ? exp_neg_sixteenths(uint64_t(x < 0 ? -x : x)) : 0;
  const i128 den = i128(kOne + q);
  switch (a) {
    case Activation::ReLU: return x > 0 ? x : 0;
    case Activation::GELU: return gelu_int(x);
    case Activation::SiLU: return round_ratio(x >= 0 ? i128(x) * i128(kOne) : i128(x) * i128(q), den);
    case Activation::Sigmoid:
      return std::min<int64_t>(127, round_ratio(x >= 0 ? 128 * i128(kOne) : 128 * i128(q), den));
  }
  return 0;
}

int64_t requantize_value(int64_t x, uint32_t shift) {
  const int64_t h = shift == 0 ? x : (x + (int64_t{1} << (shift - 1))) >> shift;
  if (h < kClampMin || h >= kClampMin + kClampSize)
    throw Error(ErrorCategory::Usage, "zkml requantize: " + std::to_string(x) + " >> " + std::to_string(shift) +
                                          " leaves the clamp table's [-2048, 2048) (quantization overflow)");
  return clamp8(h);
}

// round(1024 sqrt(d / den)), den = 2^t u + 2^(t-1), exactly: s = floor(sqrt(2^20 d / den)) =
// isqrt(floor(2^20 d / den)), and the rounding adds 1 when s + 1/2 <= sqrt(2^20 d / den), i.e.
// when (2s + 1)^2 den <= 2^22 d.
int64_t rsqrt_value_real(uint64_t d, uint32_t t, int64_t u) {
  if (u < 0 || t == 0 || t > 40 || d == 0 || d > (uint64_t{1} << 32))
    throw Error(ErrorCategory::Usage, "zkml rsqrt: argument out of range");
  const u128 n = u128(d) << 20;
  const u128 den = (u128(uint64_t(u)) << t) + (u128(1) << (t - 1));
  const uint64_t s = isqrt(uint64_t(n / den));
  return int64_t(s + ((u128(2 * s + 1) * (2 * s + 1) * den <= 4 * n) ? 1 : 0));
}

int64_t rsqrt_value(uint32_t log_d, uint32_t t, int64_t u) { return rsqrt_value_real(uint64_t{1} << log_d, t, u); }

int64_t exp_value(uint32_t out_bits, int64_t d) {
  if (d < 0 || out_bits > 32) throw Error(ErrorCategory::Usage, "zkml exp: argument out of range");
  const u128 v = exp_neg_sixteenths(2 * uint64_t(d)) << out_bits;
  return int64_t((v + (u128(1) << 63)) >> 64);
}

uint32_t clamp_table(Graph& g) {
  std::vector<int64_t> h(kClampSize), q(kClampSize);
  for (int64_t i = 0; i < kClampSize; ++i) {
    h[i] = kClampMin + i;
    q[i] = clamp8(h[i]);
  }
  return g.add_table("clamp:h=[-2048,2048)", {std::move(h), std::move(q)});
}

uint32_t range_table(Graph& g, uint32_t bits) {
  std::vector<int64_t> v(size_t{1} << bits);
  for (size_t i = 0; i < v.size(); ++i) v[i] = int64_t(i);
  return g.add_table("range:" + std::to_string(bits), {std::move(v)});
}

uint32_t activation_table(Graph& g, Activation a) {
  std::vector<int64_t> x(256), y(256);
  for (int i = 0; i < 256; ++i) {
    x[i] = i - 128;
    y[i] = activation_value(a, x[i]);
  }
  return g.add_table(std::string("act:") + activation_name(a) + ",in=1/16", {std::move(x), std::move(y)});
}

uint32_t exp_table(Graph& g, uint32_t out_bits) {
  std::vector<int64_t> d(size_t{1} << kExpDomainBits), e(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = int64_t(i);
    e[i] = exp_value(out_bits, d[i]);
  }
  return g.add_table("exp:b=" + std::to_string(out_bits) + ",d/8", {std::move(d), std::move(e)});
}

uint32_t rsqrt_table(Graph& g, uint32_t log_d, uint32_t t) {
  std::vector<int64_t> u(8192), r(8192);
  for (size_t i = 0; i < u.size(); ++i) {
    u[i] = int64_t(i);
    r[i] = rsqrt_value(log_d, t, u[i]);
  }
  return g.add_table("rsqrt:d=2^" + std::to_string(log_d) + ",t=" + std::to_string(t), {std::move(u), std::move(r)});
}

uint32_t rsqrt_table_real(Graph& g, uint64_t d, uint32_t t) {
  std::vector<int64_t> u(8192), r(8192);
  for (size_t i = 0; i < u.size(); ++i) {
    u[i] = int64_t(i);
    r[i] = rsqrt_value_real(d, t, u[i]);
  }
  return g.add_table("rsqrt:d=" + std::to_string(d) + ",t=" + std::to_string(t), {std::move(u), std::move(r)});
}

TensorId requantize(Graph& g, TensorId x, uint32_t shift, const std::string& name) {
  const uint32_t lr = info(g, x).log_rows, lc = info(g, x).log_cols;
  const uint32_t clamp = clamp_table(g);
  const TensorId q = advice_like(g, name, lr, lc);
  if (shift == 0) {
    g.add_advice_step([x, q](Values& v) {
      v[q].resize(v[x].size());
      for (size_t i = 0; i < v[x].size(); ++i) v[q][i] = requantize_value(v[x][i], 0);
    }, [x, q](FloatValues& f) { f[q] = f[x]; });
    g.lookup(clamp, lr, lc, {{x}, {q}});
    return q;
  }
  const TensorId h = advice_like(g, name + ".hi", lr, lc);
  const TensorId r = advice_like(g, name + ".rem", lr, lc);
  g.add_advice_step([x, q, h, r, shift](Values& v) {
    const size_t n = v[x].size();
    v[q].resize(n);
    v[h].resize(n);
    v[r].resize(n);
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = v[x][i] + (int64_t{1} << (shift - 1));
      v[h][i] = t >> shift;
      v[r][i] = t - (v[h][i] << shift);
      v[q][i] = requantize_value(v[x][i], shift);
    }
  }, [x, q, h, r, shift](FloatValues& f) {
    f[q].resize(f[x].size());
    for (size_t i = 0; i < f[x].size(); ++i) f[q][i] = std::ldexp(f[x][i], -int(shift));
    f[h] = f[q];
    f[r].assign(f[x].size(), 0.0);
  });
  const TensorId z = g.linear(name + ".check", lr, lc, {{x}, {h, Broadcast::None, -(int64_t{1} << shift)}, {r, Broadcast::None, -1}},
                              int64_t{1} << (shift - 1));
  g.assert_zero(z);
  g.lookup(range_table(g, shift), lr, lc, {{r}});
  g.lookup(clamp, lr, lc, {{h}, {q}});
  return q;
}

TensorId add(Graph& g, TensorId a, TensorId b, const std::string& name) {
  const TensorId s = g.linear(name + ".sum", info(g, a).log_rows, info(g, a).log_cols, {{a}, {b}});
  return requantize(g, s, 0, name);
}

TensorId multiply(Graph& g, TensorId a, TensorId b, uint32_t shift, const std::string& name) {
  const TensorId p = g.mul(name + ".prod", {a}, {b});
  return requantize(g, p, shift, name);
}

TensorId linear_layer(Graph& g, TensorId x, TensorId w, const std::string& name) {
  const TensorId y = g.matmul(name + ".acc", x, w);
  return requantize(g, y, matmul_shift(info(g, x).log_cols), name);
}

TensorId activation(Graph& g, TensorId x, Activation a, const std::string& name) {
  const uint32_t lr = info(g, x).log_rows, lc = info(g, x).log_cols;
  const uint32_t table = activation_table(g, a);
  const TensorId y = advice_like(g, name, lr, lc);
  g.add_advice_step([x, y, a](Values& v) {
    v[y].resize(v[x].size());
    for (size_t i = 0; i < v[x].size(); ++i) v[y][i] = activation_value(a, v[x][i]);
  }, [x, y, a](FloatValues& f) {
    f[y].resize(f[x].size());
    for (size_t i = 0; i < f[x].size(); ++i) f[y][i] = activation_float(a, f[x][i]);
  });
  g.lookup(table, lr, lc, {{x}, {y}});
  return y;
}

TensorId rmsnorm(Graph& g, TensorId x, TensorId gamma, const std::string& name, uint32_t real_d) {
  const uint32_t lr = info(g, x).log_rows, ld = info(g, x).log_cols;
  const uint32_t t = ld + 2;
  if (real_d > (uint64_t{1} << ld)) throw Error(ErrorCategory::Usage, "zkml rmsnorm: " + name + ": real row length above the tensor's");
  // A power-of-two row length keeps the d=2^ld table (and its name).
  const uint64_t d = real_d == 0 || real_d == (uint64_t{1} << ld) ? 0 : real_d;
  const double dd = d ? double(d) : std::ldexp(1.0, int(ld));
  const TensorId sq = g.mul(name + ".sq", {x}, {x});
  const TensorId ss = g.row_sum(name + ".ss", sq);
  const TensorId u = advice_like(g, name + ".u", lr, 0);
  const TensorId w = advice_like(g, name + ".w", lr, 0);
  const TensorId r = advice_like(g, name + ".rsqrt", lr, 0);
  g.add_advice_step([ss, u, w, r, ld, t, d](Values& v) {
    const size_t n = v[ss].size();
    v[u].resize(n);
    v[w].resize(n);
    v[r].resize(n);
    for (size_t i = 0; i < n; ++i) {
      v[u][i] = v[ss][i] >> t;
      v[w][i] = v[ss][i] - (v[u][i] << t);
      v[r][i] = d ? rsqrt_value_real(d, t, v[u][i]) : rsqrt_value(ld, t, v[u][i]);
    }
  }, [ss, u, w, r, t, dd](FloatValues& f) {
    const size_t n = f[ss].size();
    f[u].resize(n);
    f[w].assign(n, 0.0);
    f[r].resize(n);
    for (size_t i = 0; i < n; ++i) {
      f[u][i] = std::ldexp(f[ss][i], -int(t));
      f[r][i] = f[ss][i] > 0 ? 1024.0 * std::sqrt(dd / f[ss][i]) : 0.0;
    }
  });
  g.assert_zero(g.linear(name + ".ss.check", lr, 0, {{ss}, {u, Broadcast::None, -(int64_t{1} << t)}, {w, Broadcast::None, -1}}));
  g.lookup(range_table(g, t), lr, 0, {{w}});
  g.lookup(d ? rsqrt_table_real(g, d, t) : rsqrt_table(g, ld, t), lr, 0, {{u}, {r}});
  const TensorId xr = g.mul(name + ".xr", {x}, {r, Broadcast::Rows});
  const TensorId xg = g.mul(name + ".xg", {xr}, {gamma, Broadcast::Cols});
  return requantize(g, xg, 11, name);
}

TensorId rope(Graph& g, TensorId x, uint32_t position_offset, const std::string& name, uint32_t real_e) {
  const uint32_t lr = info(g, x).log_rows, le = info(g, x).log_cols;
  if (le == 0) throw Error(ErrorCategory::Usage, "zkml rope: " + name + " has one column");
  const size_t full = size_t{1} << le;
  const size_t e = real_e == 0 ? full : real_e;
  if (e > full || e % 2 != 0)
    throw Error(ErrorCategory::Usage, "zkml rope: " + name + ": head dimension " + std::to_string(e) + " is odd or above 2^" + std::to_string(le));
  const double E = double(e);
  auto angle = [&](size_t i, size_t j) {
    return double(position_offset + i) * std::pow(10000.0, -2.0 * double(j / 2) / E);
  };
  const std::string ekey = e == full ? "2^" + std::to_string(le) : std::to_string(e) + "/2^" + std::to_string(le);
  const std::string key = ":S=2^" + std::to_string(lr) + ",E=" + ekey + ",p0=" + std::to_string(position_offset);
  const TensorId cos = shared_public(g, "rope.cos" + key, lr, le, [&](size_t i, size_t j) { return j < e ? round_half_up(128.0 * std::cos(angle(i, j))) : 0; },
                                     [&](size_t i, size_t j) { return j < e ? 128.0 * std::cos(angle(i, j)) : 0.0; });
  const TensorId sin = shared_public(g, "rope.sin" + key, lr, le, [&](size_t i, size_t j) { return j < e ? round_half_up(128.0 * std::sin(angle(i, j))) : 0; },
                                     [&](size_t i, size_t j) { return j < e ? 128.0 * std::sin(angle(i, j)) : 0.0; });
  const TensorId sw = g.pair_swap(name + ".swap", x);
  const TensorId a = g.mul(name + ".xcos", {x}, {cos});
  const TensorId b = g.mul(name + ".xsin", {sw}, {sin});
  const TensorId s = g.linear(name + ".rot", lr, le, {{a}, {b}});
  return requantize(g, s, 7, name);
}

TensorId causal_mask(Graph& g, TensorId scores, uint32_t position_offset, const std::string& name) {
  const uint32_t lr = info(g, scores).log_rows, lc = info(g, scores).log_cols;
  const std::string key = ":S=2^" + std::to_string(lr) + ",T=2^" + std::to_string(lc) + ",p0=" + std::to_string(position_offset);
  const TensorId keep = shared_public(g, "mask.keep" + key, lr, lc, [&](size_t i, size_t j) { return j <= i + position_offset ? 1 : 0; });
  const TensorId fill = shared_public(g, "mask.fill" + key, lr, lc, [&](size_t i, size_t j) { return j <= i + position_offset ? 0 : -384; });
  const TensorId kept = g.mul(name + ".kept", {scores}, {keep});
  return g.linear(name, lr, lc, {{kept}, {fill}});
}

TensorId softmax(Graph& g, TensorId s, const std::string& name) {
  const uint32_t lr = info(g, s).log_rows, lc = info(g, s).log_cols;
  if (lc > 5 + 10) throw Error(ErrorCategory::Usage, "zkml softmax: rows longer than 2^15");
  const uint32_t b = std::min<uint32_t>(10, 15 - lc);
  const size_t T = size_t{1} << lc;
  const TensorId m = advice_like(g, name + ".max", lr, 0);
  const TensorId e = advice_like(g, name + ".exp", lr, lc);
  g.add_advice_step([s, m, e, T, b](Values& v) {
    const size_t rows = v[s].size() / T;
    v[m].assign(rows, 0);
    v[e].resize(v[s].size());
    for (size_t i = 0; i < rows; ++i) {
      int64_t mx = v[s][i * T];
      for (size_t j = 1; j < T; ++j) mx = std::max(mx, v[s][i * T + j]);
      v[m][i] = mx;
      for (size_t j = 0; j < T; ++j) {
        const int64_t d = mx - v[s][i * T + j];
        if (d >= (int64_t{1} << kExpDomainBits))
          throw Error(ErrorCategory::Usage, "zkml softmax: score gap " + std::to_string(d) + " leaves the exp table");
        v[e][i * T + j] = exp_value(b, d);
      }
    }
  }, [s, m, e, T, b](FloatValues& f) {
    const size_t rows = f[s].size() / T;
    f[m].assign(rows, 0.0);
    f[e].resize(f[s].size());
    for (size_t i = 0; i < rows; ++i) {
      double mx = f[s][i * T];
      for (size_t j = 1; j < T; ++j) mx = std::max(mx, f[s][i * T + j]);
      f[m][i] = mx;
      for (size_t j = 0; j < T; ++j) f[e][i * T + j] = std::ldexp(std::exp(-(mx - f[s][i * T + j]) / 8.0), int(b));
    }
  });
  const TensorId d = g.linear(name + ".gap", lr, lc, {{m, Broadcast::Rows}, {s, Broadcast::None, -1}});
  g.lookup(exp_table(g, b), lr, lc, {{d}, {e}});
  const TensorId row_of_entry = shared_public(g, "index.row:S=2^" + std::to_string(lr) + ",T=2^" + std::to_string(lc), lr, lc,
                                              [](size_t i, size_t) { return int64_t(i); });
  const TensorId row = shared_public(g, "index.row:S=2^" + std::to_string(lr), lr, 0, [](size_t i, size_t) { return int64_t(i); });
  const uint32_t entries = g.add_tensor_table("rowmax:" + name, lr, lc, {{row_of_entry}, {s}});
  g.lookup(entries, lr, 0, {{row}, {m}});
  const TensorId sum = g.row_sum(name + ".sum", e);
  const TensorId half = advice_like(g, name + ".half", lr, 0);
  const TensorId hb = advice_like(g, name + ".halfbit", lr, 0);
  const TensorId p = advice_like(g, name, lr, lc);
  const TensorId rem = advice_like(g, name + ".rem", lr, lc);
  g.add_advice_step([sum, half, hb, p, rem, e, T](Values& v) {
    const size_t rows = v[sum].size();
    v[half].resize(rows);
    v[hb].resize(rows);
    v[p].resize(rows * T);
    v[rem].resize(rows * T);
    for (size_t i = 0; i < rows; ++i) {
      const int64_t total = v[sum][i];
      v[half][i] = total / 2;
      v[hb][i] = total % 2;
      for (size_t j = 0; j < T; ++j) {
        const int64_t num = 128 * v[e][i * T + j] + v[half][i];
        v[p][i * T + j] = num / total;
        v[rem][i * T + j] = num % total;
      }
    }
  }, [sum, half, hb, p, rem, e, T](FloatValues& f) {
    const size_t rows = f[sum].size();
    f[half].resize(rows);
    f[hb].assign(rows, 0.0);
    f[p].resize(rows * T);
    f[rem].assign(rows * T, 0.0);
    for (size_t i = 0; i < rows; ++i) {
      f[half][i] = f[sum][i] / 2;
      for (size_t j = 0; j < T; ++j) f[p][i * T + j] = 128.0 * f[e][i * T + j] / f[sum][i];
    }
  });
  g.assert_zero(g.linear(name + ".half.check", lr, 0, {{sum}, {half, Broadcast::None, -2}, {hb, Broadcast::None, -1}}));
  g.lookup(range_table(g, 1), lr, 0, {{hb}});
  const TensorId ps = g.mul(name + ".psum", {p}, {sum, Broadcast::Rows});
  g.assert_zero(g.linear(name + ".div.check", lr, lc,
                         {{e, Broadcast::None, 128}, {half, Broadcast::Rows}, {ps, Broadcast::None, -1}, {rem, Broadcast::None, -1}}));
  g.lookup(range_table(g, 16), lr, lc, {{rem}});
  const TensorId gap = g.linear(name + ".rem.gap", lr, lc, {{sum, Broadcast::Rows}, {rem, Broadcast::None, -1}}, -1);
  g.lookup(range_table(g, 16), lr, lc, {{gap}});
  return p;
}

}  // namespace ptvm::zkml
