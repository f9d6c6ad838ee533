// The typed column handles of ptvm::Backend (backend.hpp "Kinds"): every misuse below is a
// compile error (checked by static_assert on requires-expressions), the right calls compile, and
// one round trip through the CPU backend keeps values and the shared storage of the conversions.
#include <gtest/gtest.h>

#include <type_traits>

#include "ptvm/backend.hpp"
#include "ptvm/circle/domain.hpp"

namespace ptvm {
namespace {

template <class T>
concept Interpolates = requires(Backend& b, const T& x) { b.interpolate(x); };
template <class T>
concept Evaluates = requires(Backend& b, const T& x) { b.evaluate(x, 1); };
template <class T>
concept EvaluatesAtPoints = requires(Backend& b, const T& x, std::span<const PointEvaluationRequest> r) {
  b.evaluate_at_points(x, r);
};
template <class T>
concept Commits = requires(Backend& b, const T& x) { b.commit({x}); };
template <class T>
concept FoldsCircle = requires(Backend& b, const T& x) { b.fri_fold_circle(x, QM31(), nullptr); };
template <class T>
concept FoldsLine = requires(Backend& b, const T& x, const circle::LineDomain& d) { b.fri_fold_line(x, d, QM31()); };
template <class T>
concept AddsAssign = requires(Backend& b, T& x, const T& y) { b.add_assign(x, y); };
template <class T>
concept Slices = requires(Backend& b, const T& x) { b.slice(x, 0, 1); };
template <class T>
concept DeepReads = requires(const T& x) { ColumnRef{x, size_t{0}}; };
template <class T>
concept ComposesAsMain = requires(CompositionInputs& in, const T& x) { in.main = &x; };
template <class T>
concept HasCoordinates = requires(const T& x) { x.coordinates(); };
template <class T>
concept FromCoordinates = requires(const Evaluations& e) { T::from_coordinates(e); };

// Circle FFTs: evaluations to coefficients and back; a secure column only through its coordinates.
static_assert(Interpolates<Evaluations>);
static_assert(!Interpolates<Coefficients>);
static_assert(!Interpolates<SecureEvaluations>);
static_assert(!Interpolates<LineEvaluations>);
static_assert(Evaluates<Coefficients>);
static_assert(!Evaluates<Evaluations>);
static_assert(!Evaluates<SecureEvaluations>);
static_assert(EvaluatesAtPoints<Coefficients>);
static_assert(!EvaluatesAtPoints<Evaluations>);

// Commitments and DEEP quotients read evaluations of any kind, never coefficients.
static_assert(Commits<Evaluations>);
static_assert(Commits<SecureEvaluations>);
static_assert(Commits<LineEvaluations>);
static_assert(!Commits<Coefficients>);
static_assert(DeepReads<Evaluations>);
static_assert(!DeepReads<Coefficients>);
static_assert(!std::is_convertible_v<const Coefficients&, EvaluationsRef>);
static_assert(ComposesAsMain<Evaluations>);
static_assert(!ComposesAsMain<Coefficients>);

// FRI: the circle fold takes a secure circle evaluation, the line fold a line evaluation.
static_assert(FoldsCircle<SecureEvaluations>);
static_assert(!FoldsCircle<Evaluations>);
static_assert(!FoldsCircle<LineEvaluations>);
static_assert(FoldsLine<LineEvaluations>);
static_assert(!FoldsLine<SecureEvaluations>);
static_assert(!FoldsLine<Evaluations>);

// Kind-preserving stages and the conversions.
static_assert(AddsAssign<SecureEvaluations>);
static_assert(!AddsAssign<Evaluations>);
static_assert(!AddsAssign<Coefficients>);
static_assert(Slices<Coefficients>);
static_assert(!Slices<Evaluations>);
static_assert(HasCoordinates<SecureEvaluations>);
static_assert(!HasCoordinates<LineEvaluations>);
static_assert(!HasCoordinates<Evaluations>);
static_assert(!HasCoordinates<Coefficients>);
static_assert(FromCoordinates<SecureEvaluations>);
static_assert(FromCoordinates<LineEvaluations>);
static_assert(!FromCoordinates<Coefficients>);
static_assert(!FromCoordinates<Evaluations>);

// Owning and move-only; no implicit conversion between kinds.
static_assert(!std::is_copy_constructible_v<Evaluations>);
static_assert(std::is_nothrow_move_constructible_v<Evaluations>);
static_assert(!std::is_convertible_v<Evaluations, Coefficients>);
static_assert(!std::is_convertible_v<SecureEvaluations, Evaluations>);
static_assert(!std::is_convertible_v<Evaluations, SecureEvaluations>);
static_assert(std::is_constructible_v<bool, const Evaluations&>);
static_assert(!std::is_convertible_v<const Evaluations&, bool>);  // explicit operator bool

TEST(TypedHandles, RoundTripKeepsValuesAndConversionsShareStorage) {
  auto backend = make_cpu_backend();
  std::vector<std::vector<M31>> rows(4, std::vector<M31>(16));
  for (size_t c = 0; c < rows.size(); ++c)
    for (size_t j = 0; j < rows[c].size(); ++j) rows[c][j] = M31::from_u32(static_cast<uint32_t>(1000 * c + j * j + 1));

  const Evaluations evaluations = backend->upload_rows(rows);
  const Coefficients coefficients = backend->interpolate(evaluations);
  Evaluations back = backend->evaluate(coefficients, 0);
  ASSERT_EQ(back.n_columns(), rows.size());
  for (size_t c = 0; c < rows.size(); ++c) EXPECT_EQ(backend->to_host_rows(back, c), rows[c]) << "column " << c;

  // The 4 columns as one QM31 column: the conversions re-label the same storage both ways.
  SecureEvaluations secure = SecureEvaluations::from_coordinates(back);
  EXPECT_EQ(&secure.set(), &back.set());
  EXPECT_EQ(&secure.coordinates().set(), &back.set());
  EXPECT_EQ(backend->commit({secure})->root(), backend->commit({back})->root());
  EXPECT_THROW(SecureEvaluations::from_coordinates(backend->upload_rows({rows[0]})), Error);

  // add_assign through the secure handle is seen through the shared coordinates.
  const SecureEvaluations copy = SecureEvaluations::from_coordinates(backend->upload_rows(rows));
  backend->add_assign(secure, copy);
  for (size_t j = 0; j < rows[0].size(); ++j) EXPECT_EQ(backend->to_host_rows(back, 0)[j], rows[0][j] + rows[0][j]);
}

}  // namespace
}  // namespace ptvm
