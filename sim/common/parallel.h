// Host parallelism for bulk data work (operand generation, layouts, comparisons): a range split into
// chunks run on worker threads. Results never depend on the thread count: each chunk writes only its
// own elements, so one thread and sixteen give the same bytes.
#pragma once

#include <cstdint>
#include <functional>

namespace stcsim {

// Threads bulk host work may use: STCSIM_THREADS when set (1..1024), else the hardware's threads.
int host_threads();
// Overrides host_threads() for this process (0: back to the default). The CLI's --threads.
void set_host_threads(int n);

// Calls fn(begin, end) on disjoint chunks covering [0, n), each at least `grain` long (the last may be
// shorter), on up to host_threads() threads; waits for all. The first exception a chunk throws is
// rethrown here after every thread has stopped.
void parallel_for(std::int64_t n, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn);

}  // namespace stcsim
