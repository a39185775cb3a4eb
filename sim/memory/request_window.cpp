#include "memory/request_window.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace stcsim {

RequestWindowStats& RequestWindowStats::operator+=(const RequestWindowStats& o) {
  requests += o.requests;
  bytes += o.bytes;
  throttled_requests += o.throttled_requests;
  throttle_cycles += o.throttle_cycles;
  peak_bytes = std::max(peak_bytes, o.peak_bytes);
  return *this;
}

RequestWindow::RequestWindow(std::int64_t limit_bytes) : limit_(limit_bytes) {
  if (limit_bytes < 0) throw Error(fmt::format("request window: limit of {} bytes", limit_bytes));
}

void RequestWindow::retire(std::int64_t now) {
  while (!in_flight_.empty() && in_flight_.begin()->first <= now) {
    bytes_ -= in_flight_.begin()->second;
    in_flight_.erase(in_flight_.begin());
  }
}

std::int64_t RequestWindow::outstanding(std::int64_t at) const {
  std::int64_t b = 0;
  for (auto it = in_flight_.upper_bound(at); it != in_flight_.end(); ++it) b += it->second;
  return b;
}

std::int64_t RequestWindow::admit_at(std::int64_t at, std::int64_t bytes) const {
  if (at < 0 || bytes < 0) throw Error(fmt::format("request window: a load of {} bytes at cycle {}", bytes, at));
  if (limit_ == 0) return at;
  std::int64_t left = outstanding(at);
  std::int64_t t = at;
  for (auto it = in_flight_.upper_bound(at); left > 0 && left + bytes > limit_; ++it) {
    t = it->first;
    left -= it->second;
  }
  return t;
}

void RequestWindow::issue(std::int64_t now, std::int64_t bytes, std::int64_t done, std::int64_t wanted) {
  retire(now);
  if (admit_at(now, bytes) != now) {
    throw Error(fmt::format("request window: a load of {} bytes at cycle {} with {} of {} bytes outstanding", bytes,
                            now, bytes_, limit_));
  }
  if (done < now) throw Error(fmt::format("request window: a load issued at {} arrives at {}", now, done));
  stats_.requests += 1;
  stats_.bytes += static_cast<std::uint64_t>(bytes);
  if (now > wanted) {
    stats_.throttled_requests += 1;
    stats_.throttle_cycles += static_cast<std::uint64_t>(now - wanted);
  }
  if (done > now && bytes > 0) {
    in_flight_.emplace(done, bytes);
    bytes_ += bytes;
  }
  stats_.peak_bytes = std::max(stats_.peak_bytes, static_cast<std::uint64_t>(bytes_));
}

}  // namespace stcsim
