#include "common/parallel.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "common/strings.h"

namespace stcsim {

namespace {

std::atomic<int> g_override{0};

}  // namespace

int host_threads() {
  if (const int o = g_override.load()) return o;
  if (const char* env = std::getenv("STCSIM_THREADS")) {
    const auto v = parse_int(env);
    if (v && *v >= 1 && *v <= 1024) return static_cast<int>(*v);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

void set_host_threads(int n) { g_override.store(std::clamp(n, 0, 1024)); }

void parallel_for(std::int64_t n, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<std::int64_t>(grain, 1);
  const std::int64_t chunks = (n + grain - 1) / grain;
  const auto threads = static_cast<std::int64_t>(std::min<std::int64_t>(host_threads(), chunks));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  std::atomic<std::int64_t> next{0};
  std::exception_ptr first;
  std::mutex mu;
  auto work = [&]() {
    for (;;) {
      const std::int64_t c = next.fetch_add(1);
      if (c >= chunks) return;
      try {
        fn(c * grain, std::min(n, (c + 1) * grain));
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mu);
        if (!first) first = std::current_exception();
        next.store(chunks);
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads - 1));
  for (std::int64_t t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the ones running (and this one) share the chunks
    }
  }
  work();
  for (auto& t : pool) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace stcsim
