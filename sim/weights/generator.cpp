#include "weights/generator.h"

#include <cmath>

#include "common/error.h"
#include "common/rng_fill.h"

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
  const double sigma = 1.0 / std::sqrt(static_cast<double>(cols));
  float* out = w.data().data();
  switch (dist) {
    case WeightDist::normal:
      fill_from_stream(out, w.size(), seed, 2, [sigma](Rng& rng) { return static_cast<float>(sigma * rng.normal()); });
      break;
    case WeightDist::uniform: {
      const double a = std::sqrt(3.0) * sigma;
      fill_from_stream(out, w.size(), seed, 1, [a](Rng& rng) { return static_cast<float>(a * (2.0 * rng.uniform() - 1.0)); });
      break;
    }
    case WeightDist::laplace: {
      const double b = sigma / std::sqrt(2.0);
      fill_from_stream(out, w.size(), seed, 1, [b](Rng& rng) {
        const double u = rng.uniform() - 0.5;  // inverse CDF of Laplace(0, b)
        return static_cast<float>(-b * (u < 0 ? -1.0 : 1.0) * std::log(1.0 - 2.0 * std::fabs(u)));
      });
      break;
    }
  }
  return w;
}

}  // namespace stcsim
