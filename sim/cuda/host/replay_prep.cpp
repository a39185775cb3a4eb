#include "cuda/host/replay_prep.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <future>

#include "common/error.h"
#include "common/parallel.h"
#include "common/rng.h"
#include "functional/functional.h"
#include "scheduler/launch_plan.h"
#include "sparsity/registry.h"
#include "tensor_core/tensor_core.h"

namespace stcsim::replay {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::uint64_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : std::uint64_t{8} << 30;
}

std::uint64_t u(std::int64_t x) { return static_cast<std::uint64_t>(std::max<std::int64_t>(x, 0)); }

// Keys of what a line's operands depend on: the weights on the layer's stream and S's shape, D on its
// stream, shape and type (its values' scale).
std::string weights_key(const ReplayItem& it, std::uint64_t seed) {
  const auto [rows, cols] = it.gemm.sparse_shape();
  return fmt::format("w/{}/{}x{}", derive_seed(seed, it.gemm.layer, it.line), rows, cols);
}
std::string dense_key(const ReplayItem& it, std::uint64_t seed) {
  const std::int64_t p = it.gemm.sparse == Operand::B ? it.gemm.m : it.gemm.n;
  return fmt::format("d/{}/{}x{}/{}", derive_seed(seed, it.gemm.layer + "/dense", it.line), it.gemm.k, p,
                     dtype_name(it.gemm.dtype));
}

StagedCase stage_case(const ReplayProblem& p, const std::vector<Backend>& backends, const KernelTiling& tiling, DenseStager& d) {
  StagedCase c;
  c.reference = std::make_shared<const StagedGemm>(stage_gemm(Backend::cublas, p, tiling, d));
  for (Backend b : backends) {
    if (b == Backend::cublas) {
      c.backends.push_back(c.reference);
      c.errors.emplace_back();
      continue;
    }
    try {
      c.backends.push_back(std::make_shared<const StagedGemm>(stage_gemm(b, p, tiling, d)));
      c.errors.emplace_back();
    } catch (const std::exception& e) {
      c.backends.push_back(nullptr);
      c.errors.emplace_back(e.what());
    }
  }
  return c;
}

std::uint64_t case_bytes(const StagedCase& c) {
  std::uint64_t b = c.reference ? c.reference->host_bytes() : 0;
  for (const auto& s : c.backends) {
    if (s && s != c.reference) b += s->host_bytes();
  }
  return b;
}

}  // namespace

struct Preparer::Shared {
  std::shared_future<std::shared_ptr<const void>> value;
  int uses_left = 0;
};

std::uint64_t prep_bytes_estimate(const GemmOp& g) {
  const auto [rows, k] = g.sparse_shape();
  const std::int64_t p = g.sparse == Operand::B ? g.m : g.n;
  // weights, pruned and compressed (up to 4 + 4 + 4 bytes per S value, and the mask's 1) for the real
  // values and again for the exact variant, 2 bytes per staged S value per backend (up to 3), and D
  // in fp32 plus up to two 16-bit copies.
  return u(rows) * u(k) * (2 * 13 + 6) + u(k) * u(p) * 8;
}

Preparer::Preparer(std::vector<ReplayItem> items, const PrepOptions& opt) : items_(std::move(items)), opt_(opt) {
  if (opt_.memory_budget == 0) opt_.memory_budget = physical_memory() / 2;
  std::map<std::string, int> uses;
  for (const ReplayItem& it : items_) {
    wkey_.push_back(weights_key(it, opt_.seed));
    dkey_.push_back(dense_key(it, opt_.seed));
    ++uses[wkey_.back()];
    ++uses[dkey_.back()];
  }
  for (const auto& [key, n] : uses) {
    auto e = std::make_shared<Shared>();
    e->uses_left = n;
    cache_[key] = std::move(e);
  }
  // Each line's bulk steps use every core (parallel_for); a few lines at once keep the cores busy
  // through its serial steps (masks, compression, layouts).
  const int workers = opt_.workers > 0 ? opt_.workers : std::clamp(host_threads() / 4, 1, 4);
  const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(workers), std::max<std::size_t>(items_.size(), 1)));
  for (int t = 0; t < n; ++t) {
    try {
      threads_.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
      if (threads_.empty()) throw Error("replay: could not start a preparation thread");
      break;
    }
  }
}

Preparer::~Preparer() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void Preparer::work() {
  for (;;) {
    std::size_t i = 0;
    std::uint64_t est = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        if (stop_ || claimed_ >= items_.size()) return;
        est = prep_bytes_estimate(items_[claimed_].gemm);
        // Ahead of the GPU by a bounded number of lines and bytes; the next line is always let through.
        const bool next_needed = claimed_ == consumed_;
        const bool fits = in_flight_bytes_ + est <= opt_.memory_budget && claimed_ < consumed_ + threads_.size() + 2;
        if (next_needed || fits) break;
        cv_.wait(lock);
      }
      i = claimed_++;
      in_flight_bytes_ += est;
    }
    PreparedItem p = prepare(i);
    {
      const std::lock_guard<std::mutex> lock(mu_);
      in_flight_bytes_ -= est;
      in_flight_bytes_ += p.bytes;
      ready_.emplace(i, std::move(p));
    }
    cv_.notify_all();
  }
}

std::optional<PreparedItem> Preparer::next() {
  const auto t0 = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  if (consumed_ >= items_.size()) return std::nullopt;
  cv_.wait(lock, [&] { return ready_.count(consumed_) > 0; });
  auto node = ready_.extract(consumed_);
  ++consumed_;
  in_flight_bytes_ -= std::min(in_flight_bytes_, node.mapped().bytes);
  lock.unlock();
  cv_.notify_all();
  waited_s_ += since(t0);
  return std::move(node.mapped());
}

template <class T, class Make>
std::shared_ptr<const T> Preparer::shared(const std::string& key, const Make& make) {
  std::shared_ptr<Shared> e;
  std::promise<std::shared_ptr<const void>> promise;
  bool builder = false;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    e = cache_.at(key);
    if (!e->value.valid()) {
      e->value = promise.get_future().share();
      builder = true;
    }
  }
  if (builder) {
    try {
      promise.set_value(std::shared_ptr<const T>(make()));
    } catch (...) {
      promise.set_exception(std::current_exception());
    }
  }
  return std::static_pointer_cast<const T>(e->value.get());
}

std::shared_ptr<const Matrix> Preparer::weights_for(std::size_t i) {
  return shared<Matrix>(wkey_[i], [&] { return std::make_shared<Matrix>(operand_weights(items_[i].gemm, opt_.seed, items_[i].line)); });
}

std::shared_ptr<DenseStager> Preparer::dense_for(std::size_t i) {
  const auto d = shared<DenseStager>(dkey_[i], [&] {
    auto m = std::make_shared<const Matrix>(functional_dense_operand(items_[i].gemm, opt_.seed, items_[i].line));
    return std::make_shared<DenseStager>(std::move(m), items_[i].gemm.dtype);
  });
  return std::const_pointer_cast<DenseStager>(d);
}

void Preparer::release(std::size_t i) {
  const std::lock_guard<std::mutex> lock(mu_);
  for (const std::string* key : {&wkey_[i], &dkey_[i]}) {
    auto& e = cache_.at(*key);
    if (--e->uses_left == 0) e->value = {};  // the last line that needs it is done with it
  }
}

PreparedItem Preparer::prepare(std::size_t i) {
  const auto t0 = Clock::now();
  PreparedItem out;
  out.item = items_[i];
  const GemmOp& g = out.item.gemm;
  try {
    const auto pattern = builtin_registry().make(g.sparse == Operand::none ? std::string("dense") : g.pattern);
    out.pattern = pattern->spec();
    const std::shared_ptr<const Matrix> w = weights_for(i);
    const std::shared_ptr<DenseStager> d = dense_for(i);
    const ReplayProblem p = make_problem(g, out.item.line, *w, d->matrix());
    out.rows = p.rows, out.cols = p.cols, out.k = p.k;
    if (p.k <= kExactCheckMaxK) {
      const ReplayProblem x = exact_variant(p, opt_.seed);
      out.exact = stage_case(x, out.item.backends, opt_.tiling, *d);
      const std::uint64_t macs = u(p.rows) * u(p.cols) * u(p.k);
      if (opt_.host_reference && macs <= kFunctionalMacLimit) out.host_reference = reference_gemm(x.pruned, *x.d).data();
    }
    out.value = stage_case(p, out.item.backends, opt_.tiling, *d);
    out.bytes = case_bytes(out.value) + (out.exact ? case_bytes(*out.exact) : 0) + out.host_reference.size() * sizeof(float);
  } catch (const std::exception& e) {
    out.error = e.what();
    out.exact.reset();
    out.value = StagedCase{};
  }
  release(i);
  out.prep_s = since(t0);
  return out;
}

}  // namespace stcsim::replay
