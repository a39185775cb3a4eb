// Arithmetic on stats structs: every counter of a struct that lists its counters in visit(f)
// (../shared/STYLE.md), added, subtracted or scaled field by field, so that a new counter needs no
// edit here. Only for structs whose counters are all std::uint64_t (checked at compile time).
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

namespace stcsim {

namespace detail {
template <class S>
std::vector<std::uint64_t> stats_values(S s) {
  std::vector<std::uint64_t> v;
  s.visit([&](const char*, auto& x) {
    static_assert(std::is_same_v<std::decay_t<decltype(x)>, std::uint64_t>, "stats ops need uint64 counters");
    v.push_back(x);
  });
  return v;
}
}  // namespace detail

// into += from, counter by counter.
template <class S>
void stats_add(S& into, const S& from) {
  const auto v = detail::stats_values(from);
  std::size_t i = 0;
  into.visit([&](const char*, auto& x) { x += v[i++]; });
}

// a - b, counter by counter (b's counters must not exceed a's: b is an earlier snapshot of a).
template <class S>
S stats_sub(S a, const S& b) {
  const auto v = detail::stats_values(b);
  std::size_t i = 0;
  a.visit([&](const char*, auto& x) { x -= v[i++]; });
  return a;
}

// Every counter times k.
template <class S>
void stats_scale(S& s, std::uint64_t k) {
  s.visit([&](const char*, auto& x) { x *= k; });
}

}  // namespace stcsim
