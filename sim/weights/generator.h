// Synthetic weights from a seed, for when no trained weights are given.
//
// Distributions, all zero-mean with variance 1/cols (LeCun-style fan-in scaling, cols = K):
//   normal   N(0, 1/cols)
//   uniform  U(-a, a), a = sqrt(3/cols)
//   laplace  Laplace(0, b), b = sqrt(1/(2 cols)): heavier tails, closer to trained weights
// Values are drawn in row-major order from one xoshiro256** stream seeded with `seed` (common/rng.h),
// one draw per element (normal: Box-Muller, one value per pair of uniforms), so the same seed gives
// the same matrix bit for bit on every run, on any number of threads (common/rng_fill.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/matrix.h"

namespace stcsim {

enum class WeightDist { normal, uniform, laplace };

std::optional<WeightDist> parse_weight_dist(std::string_view s);
std::string_view weight_dist_name(WeightDist d);

Matrix generate_weights(std::int64_t rows, std::int64_t cols, std::uint64_t seed, WeightDist dist = WeightDist::normal);

}  // namespace stcsim
