// Overflow-checked 64-bit arithmetic for sizes (MACs, bytes, element counts).
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"

namespace stcsim {

// a * b, or ShapeError naming `what` when the product does not fit in 64 bits.
inline std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const char* what) {
  std::uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) {
    throw ShapeError(std::string(what) + ": size overflows 64 bits");
  }
  return r;
}

inline std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, const char* what) {
  std::uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    throw ShapeError(std::string(what) + ": size overflows 64 bits");
  }
  return r;
}

// floor(a * b / c) for c > 0, exact through a 128-bit product, saturated at INT64_MAX.
__extension__ typedef unsigned __int128 uint128_t;
inline std::int64_t mul_div_floor(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  const uint128_t q = static_cast<uint128_t>(a) * b / c;
  constexpr auto max = static_cast<uint128_t>(INT64_MAX);
  return static_cast<std::int64_t>(q > max ? max : q);
}

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Bits needed to name one of `m` positions: ceil(log2 m), and 0 for m <= 1.
inline int index_bits(std::int64_t m) {
  int bits = 0;
  while ((std::int64_t{1} << bits) < m) ++bits;
  return bits;
}

}  // namespace stcsim
