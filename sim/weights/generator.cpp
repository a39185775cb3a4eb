#include "weights/generator.h"

#include <cmath>

#include "common/error.h"
#include "common/rng.h"

namespace stcsim {

std::optional<WeightDist> parse_weight_dist(std::string_view s) {
  if (s == "normal") return WeightDist::normal;
  if (s == "uniform") return WeightDist::uniform;
  if (s == "laplace") return WeightDist::laplace;
  return std::nullopt;
}

std::string_view weight_dist_name(WeightDist d) {
  switch (d) {
    case WeightDist::normal: return "normal";
    case WeightDist::uniform: return "uniform";
    case WeightDist::laplace: return "laplace";
  }
  return "?";
}

Matrix generate_weights(std::int64_t rows, std::int64_t cols, std::uint64_t seed, WeightDist dist) {
  if (rows < 1 || cols < 1) throw ShapeError("weights: rows and cols must be >= 1");
  Matrix w(rows, cols);
  Rng rng(seed);
  const double sigma = 1.0 / std::sqrt(static_cast<double>(cols));
  for (auto& v : w.data()) {
    double x = 0.0;
    switch (dist) {
      case WeightDist::normal: x = sigma * rng.normal(); break;
      case WeightDist::uniform: x = std::sqrt(3.0) * sigma * (2.0 * rng.uniform() - 1.0); break;
      case WeightDist::laplace: {
        const double u = rng.uniform() - 0.5;  // inverse CDF of Laplace(0, b)
        const double b = sigma / std::sqrt(2.0);
        x = -b * (u < 0 ? -1.0 : 1.0) * std::log(1.0 - 2.0 * std::fabs(u));
        break;
      }
    }
    v = static_cast<float>(x);
  }
  return w;
}

}  // namespace stcsim
