// The replay's host side, off the GPU's critical path: every (run, trace line) is prepared on worker
// threads ahead of the GPU, in order, while the GPU checks and times the ones before it. Preparing a
// line builds the simulator's operands (make_problem, exact_variant) and stages them for each backend
// (replay_stage.h). A cache shares what does not depend on the pattern between the runs of one
// invocation: a line's generated weights (its mask is cut from them for each pattern) and its dense
// operand D with D's 16-bit copies. Each cache entry is dropped once the last line that uses it is
// prepared. Lines ahead of the GPU are bounded by a memory budget, so a 16384^3 line does not hold
// several copies of itself.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cuda/host/replay_stage.h"
#include "trace/gemm.h"

namespace stcsim::replay {

// One GEMM line of one run, with the backends chosen for it.
struct ReplayItem {
  std::size_t run = 0;           // index into the runs
  std::string run_label;
  std::string source;            // the trace's file, for messages
  GemmOp gemm;                   // with the run's pattern on its sparse operand
  std::size_t line = 0;          // trace line (seeds the operands)
  std::vector<Backend> backends;
};

// One problem (the real values, or the exact variant) staged for the reference and each backend.
struct StagedCase {
  std::shared_ptr<const StagedGemm> reference;              // cuBLAS on the decompressed S
  std::vector<std::shared_ptr<const StagedGemm>> backends;  // one per ReplayItem::backends (cuBLAS's is `reference`)
  std::vector<std::string> errors;                          // per backend: why staging failed ("" = staged)
};

struct PreparedItem {
  ReplayItem item;
  std::string pattern;                 // canonical spec of the operand's pattern
  std::int64_t rows = 0, cols = 0, k = 0;
  std::optional<StagedCase> exact;     // none when K > kExactCheckMaxK
  StagedCase value;
  std::vector<float> host_reference;   // the exact variant's product on the host (PrepOptions::host_reference)
  std::string error;                   // preparation failed as a whole: every row of the line carries it
  double prep_s = 0;                   // wall seconds it took on its worker
  std::uint64_t bytes = 0;             // what it holds
};

struct PrepOptions {
  std::uint64_t seed = 1;
  KernelTiling tiling;
  bool host_reference = false;   // compute the exact variant's product on the host too (up to 2^30 MACs)
  int workers = 0;               // lines prepared at once; 0: from host_threads()
  std::uint64_t memory_budget = 0;  // bytes of prepared lines ahead of the GPU; 0: half the machine's memory
};

// Rough peak bytes of preparing a line (operands, masks, compressed forms, staged copies).
std::uint64_t prep_bytes_estimate(const GemmOp& g);

class Preparer {
 public:
  Preparer(std::vector<ReplayItem> items, const PrepOptions& opt);
  ~Preparer();
  Preparer(const Preparer&) = delete;
  Preparer& operator=(const Preparer&) = delete;

  // The next line in order, once prepared; nullopt after the last.
  std::optional<PreparedItem> next();
  // Seconds next() spent waiting for a line: host time on the GPU's critical path.
  double waited_s() const { return waited_s_; }
  int workers() const { return static_cast<int>(threads_.size()); }

 private:
  struct Shared;  // a cache entry: a value built once, dropped after its last use
  void work();
  // The cache entry `key`'s value, made by `make` on the first call (others wait for it).
  template <class T, class Make>
  std::shared_ptr<const T> shared(const std::string& key, const Make& make);
  PreparedItem prepare(std::size_t i);
  std::shared_ptr<const Matrix> weights_for(std::size_t i);
  std::shared_ptr<DenseStager> dense_for(std::size_t i);
  void release(std::size_t i);

  std::vector<ReplayItem> items_;
  PrepOptions opt_;
  std::vector<std::string> wkey_, dkey_;  // per item: its weights' and D's cache keys

  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t claimed_ = 0;    // items handed to workers
  std::size_t consumed_ = 0;   // items returned by next()
  std::uint64_t in_flight_bytes_ = 0;
  bool stop_ = false;
  std::map<std::size_t, PreparedItem> ready_;
  std::map<std::string, std::shared_ptr<Shared>> cache_;
  double waited_s_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace stcsim::replay
