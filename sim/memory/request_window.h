// An SM's window of loads outstanding to the L2 and DRAM (arch.sm.max_outstanding_bytes): the bound
// on the bytes an SM may have requested and not yet received, which stands for the SM's miss-tracking
// entries and the request queue into the crossbar. A load that does not fit waits (its requester
// stalls: the fast model's CTA slot, the cycle model's copying warp in state lg_throttle) until enough
// earlier loads have arrived; a load larger than the whole window issues once nothing else is in
// flight, so the window never deadlocks.
//
//   outstanding(t)        = sum of bytes of loads issued at or before t whose data arrives after t
//   admit_at(t, b)        = the first cycle t' >= t at which outstanding(t') + b <= limit, or
//                           outstanding(t') = 0
// Completions are known when a load issues (MemorySystem::load returns its arrival), so admit_at is
// exact for the loads issued so far; loads issued later can only move it later, and the requester
// asks again when it wakes. A limit of 0 is no limit. Plain C++; the SM modules call it in
// simulated-time order.
// Left out: limits inside the memory system (the L2's own miss queue to DRAM), and store traffic
// (stores are posted and do not hold the window).
#pragma once

#include <cstdint>
#include <map>

namespace stcsim {

struct RequestWindowStats {
  std::uint64_t requests = 0;           // loads issued through the window
  std::uint64_t bytes = 0;              // their bytes
  std::uint64_t throttled_requests = 0; // loads that waited for the window
  std::uint64_t throttle_cycles = 0;    // cycles they waited, summed
  std::uint64_t peak_bytes = 0;         // most bytes outstanding at once (a maximum, not a sum)

  RequestWindowStats& operator+=(const RequestWindowStats& o);

  template <class F>
  void visit(F&& f) {
    f("requests", requests);
    f("bytes", bytes);
    f("throttled_requests", throttled_requests);
    f("throttle_cycles", throttle_cycles);
    f("peak_bytes", peak_bytes);
  }
};

class RequestWindow {
 public:
  // `limit_bytes` >= 0; 0: unlimited. Throws Error when negative.
  explicit RequestWindow(std::int64_t limit_bytes = 0);

  // See the header comment: for any `at` >= 0 (the current cycle or a later one), `bytes` >= 0.
  // Throws Error on negative values.
  std::int64_t admit_at(std::int64_t at, std::int64_t bytes) const;
  // A load of `bytes` issued at `now` (which must be admitted: admit_at(now, bytes) == now) arrives
  // at `done` (>= now); `wanted` is the cycle it could have issued without the window, for the
  // throttle counters. Throws Error on a load the window does not admit, or done < now.
  void issue(std::int64_t now, std::int64_t bytes, std::int64_t done, std::int64_t wanted);
  // Bytes outstanding at `at` among the loads issued so far.
  std::int64_t outstanding(std::int64_t at) const;
  std::int64_t limit() const { return limit_; }

  RequestWindowStats& stats() { return stats_; }
  const RequestWindowStats& stats() const { return stats_; }

 private:
  // Drops the loads whose data has arrived by `now` (the current cycle: loads issue in time order).
  void retire(std::int64_t now);

  std::int64_t limit_;
  std::multimap<std::int64_t, std::int64_t> in_flight_;  // arrival -> bytes
  std::int64_t bytes_ = 0;                                // sum over in_flight_
  RequestWindowStats stats_;
};

}  // namespace stcsim
