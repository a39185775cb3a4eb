// A shared link or port of fixed bandwidth (the L2's chip-wide bandwidth, DRAM's), served first come
// first served: a request of b bytes issued at `now` starts when the link is free, holds it for
// b / rate cycles and its last byte arrives `latency` cycles after the transfer ends.
//
//   done = ceil(max(now, free_at) + bytes / rate) + latency        free_at <- max(now, free_at) + bytes / rate
//
// The rate is kept as an exact ratio of integers (ByteRate) and free_at as a whole cycle plus a
// fraction in units of 1/num cycle, so only the returned completion is rounded up: a stream of small
// requests ends exactly where one request of their total size would, with no per-request rounding
// drift, and never beats the configured rate. Callers issue requests in nondecreasing `now` (the SM
// threads do, in simulated-time order); an earlier `now` after a later one is served behind it.
// Left out: request reordering, read/write turnaround, priorities, and any limit on outstanding
// requests (latency is a pure pipeline delay: it does not occupy the link).
#pragma once

#include <cstdint>

namespace stcsim {

// num / den bytes per cycle, both in 1..2^62, kept reduced.
struct ByteRate {
  std::uint64_t num = 1;
  std::uint64_t den = 1;

  // Throws Error when num or den is outside 1..2^62.
  static ByteRate exact(std::uint64_t num, std::uint64_t den);
  // The nearest multiple of 2^-20 bytes per cycle (exact for integers and binary fractions such as
  // 2.5); throws Error unless bytes_per_cycle is finite and >= 2^-20.
  static ByteRate from_double(double bytes_per_cycle);
  double bytes_per_cycle() const { return static_cast<double>(num) / static_cast<double>(den); }
};

struct BandwidthServerStats {
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;
  std::uint64_t busy_cycles = 0;   // time spent transferring (exact sum, fraction dropped)
  std::uint64_t queue_cycles = 0;  // time requests waited for the link (exact sum, fraction dropped)

  template <class F>
  void visit(F&& f) {
    f("requests", requests);
    f("bytes", bytes);
    f("busy_cycles", busy_cycles);
    f("queue_cycles", queue_cycles);
  }
};

class BandwidthServer {
 public:
  BandwidthServer(ByteRate rate, std::int64_t latency);
  // Rate from a double (ByteRate::from_double). Throws Error on a bad rate or a negative latency.
  BandwidthServer(double bytes_per_cycle, std::int64_t latency);

  // Cycle the last byte of a `bytes`-byte request issued at `now` arrives (see the header comment).
  // Throws Error when bytes or now is negative.
  std::int64_t serve(std::int64_t now, std::int64_t bytes);

  // First whole cycle at which the link is free.
  std::int64_t free_at() const { return free_cycle_ + (free_frac_ > 0 ? 1 : 0); }
  ByteRate rate() const { return rate_; }
  std::int64_t latency() const { return latency_; }
  BandwidthServerStats& stats() { return stats_; }
  const BandwidthServerStats& stats() const { return stats_; }

 private:
  // A non-negative duration: whole cycles plus frac / rate_.num of a cycle, frac < rate_.num.
  struct Span {
    std::uint64_t whole = 0;
    std::uint64_t frac = 0;
  };
  // Adds (whole + frac / num) to `s`; returns how many whole cycles it grew by.
  std::uint64_t add(Span& s, std::uint64_t whole, std::uint64_t frac) const;

  ByteRate rate_;
  std::int64_t latency_;
  std::int64_t free_cycle_ = 0;  // the link is free from free_cycle_ + free_frac_ / rate_.num
  std::uint64_t free_frac_ = 0;
  Span busy_, queue_;
  BandwidthServerStats stats_;
};

}  // namespace stcsim
