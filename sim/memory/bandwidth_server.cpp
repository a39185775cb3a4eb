#include "memory/bandwidth_server.h"

#include <cmath>
#include <numeric>
#include <string>

#include "common/checked.h"
#include "common/error.h"

namespace stcsim {

ByteRate ByteRate::exact(std::uint64_t num, std::uint64_t den) {
  constexpr std::uint64_t kMax = std::uint64_t{1} << 62;  // sums of two fractions stay inside 64 bits
  if (num == 0 || den == 0 || num > kMax || den > kMax) {
    throw Error("bandwidth: rate " + std::to_string(num) + "/" + std::to_string(den) +
                " bytes per cycle: numerator and denominator must be in 1..2^62");
  }
  const std::uint64_t g = std::gcd(num, den);
  return {num / g, den / g};
}

ByteRate ByteRate::from_double(double bytes_per_cycle) {
  constexpr double kDen = 1048576.0;  // 2^20
  // The upper bound keeps num * den products well inside 64 bits for realistic request sizes.
  if (!std::isfinite(bytes_per_cycle) || bytes_per_cycle * kDen < 1.0 || bytes_per_cycle > 1e12) {
    throw Error("bandwidth: " + std::to_string(bytes_per_cycle) +
                " bytes per cycle: must be finite, >= 2^-20 and <= 1e12");
  }
  return exact(static_cast<std::uint64_t>(std::llround(bytes_per_cycle * kDen)), 1048576);
}

BandwidthServer::BandwidthServer(ByteRate rate, std::int64_t latency)
    : rate_(ByteRate::exact(rate.num, rate.den)), latency_(latency) {
  if (latency < 0) throw Error("bandwidth: latency must be >= 0 (got " + std::to_string(latency) + ")");
}

BandwidthServer::BandwidthServer(double bytes_per_cycle, std::int64_t latency)
    : BandwidthServer(ByteRate::from_double(bytes_per_cycle), latency) {}

std::uint64_t BandwidthServer::add(Span& s, std::uint64_t whole, std::uint64_t frac) const {
  const std::uint64_t before = s.whole;
  s.frac += frac;  // both < num <= 2^63: no overflow
  s.whole += whole + s.frac / rate_.num;
  s.frac %= rate_.num;
  return s.whole - before;
}

std::int64_t BandwidthServer::serve(std::int64_t now, std::int64_t bytes) {
  if (bytes < 0) throw Error("bandwidth: request of " + std::to_string(bytes) + " bytes");
  if (now < 0) throw Error("bandwidth: request at negative cycle " + std::to_string(now));

  // Start: now if the link is free by then, else when it frees (possibly mid-cycle).
  std::int64_t start = now;
  std::uint64_t start_frac = 0;
  if (free_cycle_ > now || (free_cycle_ == now && free_frac_ > 0)) {
    start = free_cycle_;
    start_frac = free_frac_;
    stats_.queue_cycles += add(queue_, static_cast<std::uint64_t>(start - now), start_frac);
  }

  // Transfer time in units of 1/num cycle: bytes * den; the start's fraction carries over exactly.
  const std::uint64_t units = checked_mul(static_cast<std::uint64_t>(bytes), rate_.den, "bandwidth request");
  stats_.busy_cycles += add(busy_, units / rate_.num, units % rate_.num);
  const std::uint64_t end_units = checked_add(units, start_frac, "bandwidth request");
  free_cycle_ = start + static_cast<std::int64_t>(end_units / rate_.num);
  free_frac_ = end_units % rate_.num;

  stats_.requests += 1;
  stats_.bytes += static_cast<std::uint64_t>(bytes);
  return free_at() + latency_;
}

}  // namespace stcsim
