// A small, fully specified random number generator. The standard library's distributions are
// implementation-defined, so they would give different weights on different toolchains; these do not.
// The same seed gives the same stream on every platform (up to libm's last-ulp differences in log/cos).
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace stcsim {

// splitmix64: used to expand a seed into generator state, and to mix names into seeds.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A seed for one named stream (a layer, a trace line) derived from a base seed: FNV-1a over the
// name, mixed with the base and the index through splitmix64.
inline std::uint64_t derive_seed(std::uint64_t base, std::string_view name, std::uint64_t index = 0) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  std::uint64_t s = base ^ h ^ (index * 0xd1b54a32d192ed03ULL);
  return splitmix64(s);
}

// xoshiro256** (Blackman and Vigna), seeded through splitmix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t s = seed;
    for (auto& w : state_) w = splitmix64(s);
  }

  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    step();
    return result;
  }

  // Advances the stream by n draws of next_u64() without producing them: how parallel generators
  // (common/rng_fill.h) find where each chunk of one sequential stream begins.
  void discard(std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) step();
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform in (0, 1]: safe to take the logarithm of.
  double uniform_open0() { return (static_cast<double>(next_u64() >> 11) + 1.0) * 0x1.0p-53; }

  // Standard normal by Box-Muller; one draw per call (the partner value is discarded, keeping the
  // stream position a simple function of the number of calls).
  double normal() {
    const double u1 = uniform_open0();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  // Uniform integer in [0, n), n >= 1, without modulo bias (rejection of the short last range).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const std::uint64_t r = next_u64();
      if (r >= threshold) return r % n;
    }
  }

 private:
  void step() {
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
  }
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

}  // namespace stcsim
