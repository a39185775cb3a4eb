// Exact-cycle testbench of SmModule: a hand-built host (SmHost) hands the SM the CTAs of a small
// launch and answers every load a constant latency after it is issued, so the main loop's
// recurrence (sm/mainloop.h) can be followed by hand from the k-block cost and the latencies: each
// store must be issued at the cycle worked out below, not one cycle before, and each load as soon
// as its buffer is free. Each test case elaborates SystemC once (ctest runs it in its own process).
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "config/machine_config.h"
#include "gpu/sanitizer_stack.h"
#include "mapping/math_path.h"
#include "scheduler/launch_plan.h"
#include "sm/kblock_cost.h"
#include "sm/sm_module.h"

using namespace stcsim;

namespace {

// H100 with a visible drain (40 cycles of wgmma latency beyond its occupancy).
MachineConfig bench_machine() {
  return load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/h100.yaml",
                             {"arch.tensor_core.instructions.wgmma.latency_cycles=40"});
}

// On that machine, a full dense fp16 k-block of the 128 x 256 x 64 CTA tile costs, by hand:
//   tensor cores: (128/64) x (256/256) x (64/16) = 8 wgmma m64n256k16 on the SM's one warpgroup
//                 unit, each 64 x 256 x 16 MACs / (4 tensor cores x 512 MACs/clk) = 128 cycles: 1024
//   shared memory at 124 B/clk: reads of S (128 x 64 x 2 = 16384 B) by its 1 warpgroup column and of
//                 D (64 x 256 x 2 = 32768 B) by its 2 warpgroup rows, ceil(81920 / 124) = 661, plus
//                 both tiles written, ceil(49152 / 124) = 397: 1058
// so a k-block lasts 1058 cycles (shared memory bound, 34 beyond the MMAs), and the CTA drains 40
// cycles after its last k-block. A k-block's tiles land in shared memory 397 cycles after they
// arrive (the write term); a k-block that waited for them has its writes behind it and lasts 1024
// (max of 1024 and 1058 - 397). Its epilogue stages the 128 x 256 fp16 C tile (65536 B) through
// shared memory: written, ceil(65536 / 124) = 529, and read back, 529: the store issues 1058 cycles
// after the drain.
constexpr std::int64_t kTensorCore = 1024;
constexpr std::int64_t kKBlock = 1058;
constexpr std::int64_t kLanding = 397;
constexpr std::int64_t kDrain = 40;
constexpr std::int64_t kEpilogue = 1058;
constexpr int kStages = 4;

GemmOp dense_gemm(std::int64_t m, std::int64_t n, std::int64_t k) {
  GemmOp g;
  g.layer = "bench";
  g.m = m;
  g.n = n;
  g.k = k;
  return g;
}

// One launch of `g` on its own SM with `slots` CTA slots; loads take `latency` cycles, stores
// `store_latency`. The launch starts at cycle `start`.
class Bench : public sc_core::sc_module, private SmHost {
 public:
  SC_HAS_PROCESS(Bench);
  Bench(const sc_core::sc_module_name& name, const MachineConfig& mc, const GemmOp& g, int slots, std::int64_t latency,
        std::int64_t start)
      : sc_core::sc_module(name),
        map_(map_gemm(g, mc)),
        plan_(plan_launch(g, map_, mc)),
        coster_(mc, g.dtype, map_),
        latency_(latency),
        start_(start),
        slots_(slots) {
    for (const CtaWork& w : plan_.work()) activity_.push_back(coster_.activity(w));
    launch_ = Launch{&plan_, &coster_, 0, 0, &activity_, 0};
    sm_ = std::make_unique<SmModule>("sm", mc, 0, slots, static_cast<SmHost&>(*this));
    SC_THREAD(run);
  }

  struct Load {
    std::int64_t now;
    std::vector<TileRequest> tiles;
  };
  const std::vector<Load>& loads() const { return loads_; }
  const std::vector<std::int64_t>& stores() const { return stores_; }
  const LaunchPlan& plan() const { return plan_; }
  const KBlockCoster& coster() const { return coster_; }
  const SmModule& sm() const { return *sm_; }
  bool finished() const { return finished_ == slots_; }

 private:
  void run() {
    sim_wait_until(start_);
    sm_->start_launch(slots_);
    sc_core::wait(done_);
  }
  const Launch& launch() const override { return launch_; }
  std::optional<std::size_t> next_cta(int /*sm*/) override {
    if (next_ >= plan_.ctas().size()) return std::nullopt;
    return next_++;
  }
  std::int64_t load(std::int64_t now, int /*sm*/, const std::vector<TileRequest>& tiles) override {
    loads_.push_back({now, tiles});
    return now + latency_;
  }
  std::int64_t store(std::int64_t now, int /*sm*/, const L2TileKey& /*key*/, std::int64_t /*bytes*/) override {
    stores_.push_back(now);
    return now + 7;
  }
  void slot_finished() override {
    if (++finished_ == slots_) done_.notify(sc_core::SC_ZERO_TIME);
  }
  void fail(std::exception_ptr e) override {
    error_ = e;
    sc_core::sc_stop();
  }

  GemmMapping map_;
  LaunchPlan plan_;
  KBlockCoster coster_;
  std::vector<SmActivity> activity_;
  Launch launch_;
  std::unique_ptr<SmModule> sm_;
  std::int64_t latency_;
  std::int64_t start_;
  int slots_;
  std::size_t next_ = 0;
  int finished_ = 0;
  std::vector<Load> loads_;
  std::vector<std::int64_t> stores_;
  sc_core::sc_event done_;
  std::exception_ptr error_;
};

std::vector<std::int64_t> issue_cycles(const Bench& b) {
  std::vector<std::int64_t> out;
  for (const auto& l : b.loads()) out.push_back(l.now);
  return out;
}

// Watches a bench: the number of stores issued once everything at cycle `at - 1` has run, and once
// everything at cycle `at` has.
class Watch : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Watch);
  Watch(const sc_core::sc_module_name& name, const Bench& b, std::int64_t at)
      : sc_core::sc_module(name), b_(b), at_(at) {
    SC_THREAD(run);
  }
  std::int64_t before = -1, at = -1;

 private:
  void run() {
    sim_wait_until(at_ - 1);
    for (int i = 0; i < 4; ++i) sc_core::wait(sc_core::SC_ZERO_TIME);  // after everything at at_ - 1
    before = static_cast<std::int64_t>(b_.stores().size());
    sim_wait_until(at_);
    for (int i = 0; i < 4; ++i) sc_core::wait(sc_core::SC_ZERO_TIME);
    at = static_cast<std::int64_t>(b_.stores().size());
  }
  const Bench& b_;
  std::int64_t at_;
};

}  // namespace

TEST_CASE("an SM finishes a CTA of 1, 2 and stages + 1 k-blocks at the cycle the main-loop recurrence gives",
          "[gpu][sm]") {
  const MachineConfig mc = bench_machine();
  REQUIRE(mc.kernel.stages == kStages);
  const std::int64_t t0 = 100;
  // One CTA each: 128 x 256 outputs, K = 64 per k-block.
  Bench one("one", mc, dense_gemm(128, 256, 64), 1, 3000, t0);
  Bench two("two", mc, dense_gemm(128, 256, 128), 1, 3000, t0);
  Bench slow("slow", mc, dense_gemm(128, 256, std::int64_t{64} * (kStages + 1)), 1, 5000, t0);  // memory binds
  Bench fast("fast", mc, dense_gemm(128, 256, std::int64_t{64} * (kStages + 1)), 1, 1000, t0);  // compute binds

  // The k-block cost the recurrence uses is the one worked out by hand above.
  const KBlockCost c = one.coster().cost(one.plan().work()[0].runs()[0].block);
  CHECK(c.tensor_core == kTensorCore);
  CHECK(c.smem == kKBlock);
  CHECK(c.regfile <= kKBlock);
  CHECK(one.coster().drain_cycles() == kDrain);
  CHECK(one.coster().epilogue_cycles(one.plan().work()[0].c_bytes) == kEpilogue);

  // Each load issues one cycle after the last or after its buffer frees (the TMA copy instruction
  // of its k-block takes the producer warp's issue slot), the first at t0 + 1.
  // 1 k-block: load at t0 + 1, tiles L later, landed kLanding after, MMAs for one k-block that
  // waited (kTensorCore), the drain, the epilogue, then the store.
  const std::int64_t one_end = t0 + 1 + 3000 + kLanding + kTensorCore + kDrain + kEpilogue;
  // 2 k-blocks: loads at t0 + 1 and t0 + 2 (4 buffers); the second k-block waits for the first's MMAs
  // (its tiles landed during them: a full kKBlock).
  const std::int64_t two_end = t0 + 1 + 3000 + kLanding + kTensorCore + kKBlock + kDrain + kEpilogue;
  // stages + 1 k-blocks, L = 5000: k-blocks 0..3 load at t0 + 1..4; k-block 4 reuses k-block 0's
  // buffer, free when its MMAs end at a + c' (a = t0 + 1 + L + kLanding, c' = kTensorCore), issues a
  // cycle later and lands L + kLanding after that, once k-block 3 is done at a + c' + 3c.
  const std::int64_t a = t0 + 1 + 5000 + kLanding;
  const std::int64_t slow_reload = a + kTensorCore + 1;
  const std::int64_t slow_end = slow_reload + 5000 + kLanding + kTensorCore + kDrain + kEpilogue;
  // stages + 1 k-blocks, L = 1000: k-block 4 lands before k-block 3 is done at b + c' + 3c: the MMAs
  // run back to back, the last a full kKBlock.
  const std::int64_t b = t0 + 1 + 1000 + kLanding;
  const std::int64_t fast_reload = b + kTensorCore + 1;
  const std::int64_t fast_end = b + kTensorCore + 4 * kKBlock + kDrain + kEpilogue;
  Watch w1("w1", one, one_end), w2("w2", two, two_end), w3("w3", slow, slow_end), w4("w4", fast, fast_end);

  sc_core::sc_start();
  sanitizer_back_on_thread_stack();  // the thread's own stack again, for ASan (see the header)
  REQUIRE(one.finished());
  REQUIRE(two.finished());
  REQUIRE(slow.finished());
  REQUIRE(fast.finished());

  CHECK(issue_cycles(one) == std::vector<std::int64_t>{t0 + 1});
  CHECK(one.stores() == std::vector<std::int64_t>{one_end});
  CHECK(issue_cycles(two) == std::vector<std::int64_t>{t0 + 1, t0 + 2});
  CHECK(two.stores() == std::vector<std::int64_t>{two_end});
  CHECK(issue_cycles(slow) == std::vector<std::int64_t>{t0 + 1, t0 + 2, t0 + 3, t0 + 4, slow_reload});
  CHECK(slow.stores() == std::vector<std::int64_t>{slow_end});
  CHECK(issue_cycles(fast) == std::vector<std::int64_t>{t0 + 1, t0 + 2, t0 + 3, t0 + 4, fast_reload});
  CHECK(fast.stores() == std::vector<std::int64_t>{fast_end});
  // Not one cycle early: no store by the cycle before, the store at it.
  for (const Watch* w : {&w1, &w2, &w3, &w4}) {
    CHECK(w->before == 0);
    CHECK(w->at == 1);
  }

  // Each load asks for the k-block's S and D tiles, 16384 and 32768 bytes.
  for (const auto& l : slow.loads()) {
    REQUIRE(l.tiles.size() == 2);
    CHECK(l.tiles[0].bytes == 16384);
    CHECK(l.tiles[1].bytes == 32768);
  }

  // The stall attribution of the slow CTA, by hand: the first k-block waits 1 + L + kLanding for its
  // tiles, the fifth from a + c' + 3c (k-block 3 done) to its tiles at a + c' + 1 + L + kLanding; the
  // three k-blocks that did not wait are 34 cycles beyond their MMAs on shared memory; the drain and
  // the epilogue once.
  const MainloopStats& s = slow.sm().total().mainloop;
  CHECK(s.memory_stall_cycles == (1 + 5000 + kLanding) + (1 + 5000 + kLanding - 3 * kKBlock));
  CHECK(s.mma_cycles == 5 * kTensorCore);
  CHECK(s.smem_stall_cycles == 3 * (kKBlock - kTensorCore));
  CHECK(s.regfile_stall_cycles == 0);
  CHECK(s.pipeline_cycles == kDrain);
  CHECK(s.epilogue_cycles == kEpilogue);
  CHECK(s.k_blocks == 5);
  CHECK(slow.sm().total().ctas == 1);
  // Resident from the launch until the store is issued.
  CHECK(slow.sm().total().resident_cycles == static_cast<std::uint64_t>(slow_end - t0));
  CHECK(fast.sm().total().mainloop.memory_stall_cycles == 1 + 1000 + kLanding);
}

TEST_CASE("two CTA slots of an SM share its tensor cores: their k-blocks run one after the other", "[gpu][sm]") {
  const MachineConfig mc = bench_machine();
  const std::int64_t t0 = 0, L = 2000;
  // Two CTAs (R = 256: two row blocks) of 2 k-blocks each, on one SM with two slots.
  Bench shared("shared", mc, dense_gemm(256, 256, 128), 2, L, t0);
  // The same CTA alone on an SM, for comparison.
  Bench alone("alone", mc, dense_gemm(128, 256, 128), 1, L, t0);
  sc_core::sc_start();
  sanitizer_back_on_thread_stack();  // the thread's own stack again, for ASan (see the header)
  REQUIRE(shared.finished());
  REQUIRE(alone.finished());
  REQUIRE(shared.plan().ctas().size() == 2);

  // Both slots issue their first loads at t0 + 1 and their second at t0 + 2 (4 buffers each, one TMA
  // instruction a cycle): the tiles arrive at t0 + 1 + L and t0 + 2 + L.
  CHECK(issue_cycles(shared) == std::vector<std::int64_t>{t0 + 1, t0 + 1, t0 + 2, t0 + 2});
  // The tiles land at r = t0 + 1 + L + kLanding; the first k-block to run waited for them (kTensorCore),
  // the others' landed while other MMAs ran (kKBlock each).
  const std::int64_t r = t0 + 1 + L + kLanding;
  CHECK(alone.stores() == std::vector<std::int64_t>{r + kTensorCore + kKBlock + kDrain + kEpilogue});
  std::vector<std::int64_t> ends = shared.stores();
  std::sort(ends.begin(), ends.end());
  // The tensor cores are taken in arrival order (slot 0's first k-block, slot 1's, then their second
  // ones), so the first CTA's last k-block ends at r + c' + 2c and the second's at + 3c; a slot's
  // epilogue does not hold the tensor cores: the other slot's k-block runs during it.
  CHECK(ends == std::vector<std::int64_t>{r + kTensorCore + 2 * kKBlock + kDrain + kEpilogue,
                                          r + kTensorCore + 3 * kKBlock + kDrain + kEpilogue});
  // Waiting for the other slot's MMAs is not a memory stall: only the first CTA waited for tiles.
  const MainloopStats& s = shared.sm().total().mainloop;
  CHECK(s.memory_stall_cycles == static_cast<std::uint64_t>(1 + L + kLanding));
  CHECK(s.mma_cycles == 4 * kTensorCore);
  CHECK(shared.sm().total().ctas == 2);
  // Resident from t0 until the second CTA's store.
  CHECK(shared.sm().total().resident_cycles == static_cast<std::uint64_t>(ends.back() - t0));
}
