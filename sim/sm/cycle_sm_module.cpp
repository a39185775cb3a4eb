// Dynamic processes: one landing thread per CTA slot.
#define SC_INCLUDE_DYNAMIC_PROCESSES

#include "sm/cycle_sm.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/error.h"
#include "common/stats_ops.h"
#include "memory/l2_tile_key.h"

namespace stcsim {

// One CTA's shared state: its buffers, tile arrivals, copies issued, barrier and finished warps.
class CycleSm::Cta : public CtaHooks, public SlotSink {
 public:
  Cta(CycleSm& sm, std::size_t slot, const SmHost::Launch& launch, const CtaPos& pos, const CtaWork& work)
      : sm_(sm), slot_(slot), launch_(launch), pos_(pos), work_(work), start_(sim_cycle_now()) {
    const KernelConfig& k = *sm.spec_.kernel;
    compute_ = k.compute_warps();
    stages_ = k.stages;
    const auto n = static_cast<std::size_t>(work.k_blocks());
    free_.assign(n, kNever);
    tiles_.assign(n, kNever);
    copies_.assign(n, 0);
    needed_.assign(n, 0);
    released_.assign(n, 0);
    window_bytes_.assign(n, -1);
    wanted_.assign(n, kNever);
    for (std::size_t i = 0; i < n; ++i) {
      needed_[i] = WarpProgram::copies_per_kblock(sm.spec_, work.kblock(static_cast<std::int64_t>(i)));
    }
  }

  std::int64_t buffer_free_at(std::int64_t kb) const override {
    if (kb < stages_) return start_;
    return free_.at(static_cast<std::size_t>(kb - stages_));
  }
  std::int64_t tiles_ready_at(std::int64_t kb) const override { return tiles_.at(static_cast<std::size_t>(kb)); }

  std::int64_t copy_admit_at(std::int64_t kb) override {
    const auto i = static_cast<std::size_t>(kb);
    const std::int64_t now = sim_cycle_now();
    if (copies_.at(i) + 1 != needed_[i]) return now;
    if (window_bytes_[i] < 0) window_bytes_[i] = window_bytes(requests(kb));
    const std::int64_t at = sm_.load_admit_at(now, window_bytes_[i]);
    if (at > now) wanted_[i] = std::min(wanted_[i], now);
    return at;
  }

  void copy_issued(std::int64_t kb) override {
    const auto i = static_cast<std::size_t>(kb);
    if (++copies_.at(i) != needed_[i]) return;
    // The k-block's last copy instruction issued: its tiles are requested from the memory system.
    const std::int64_t now = sim_cycle_now();
    const std::int64_t arrival = sm_.issue_load(requests(kb), std::min(wanted_[i], now), window_);
    sm_.arrivals_[slot_].emplace_back(kb, arrival);
    sm_.arrival_event_[slot_]->notify(sc_core::SC_ZERO_TIME);
  }

  void released(std::int64_t kb) override {
    const auto i = static_cast<std::size_t>(kb);
    if (++released_.at(i) == compute_) {
      free_[i] = sim_cycle_now();
      sm_.wake_all();
    }
  }
  void arrive() override {
    if (++arrived_ == compute_) sm_.wake_all();
  }
  bool barrier_open() const override { return arrived_ >= compute_; }

  void warp_finished(const Warp& w) override {
    if (!w.program.compute()) return;
    if (++finished_ == compute_) done_.notify(sc_core::SC_ZERO_TIME);
  }
  void epilogue_began(const Warp& w) override {
    epilogue_start_ = sim_cycle_now();
    lead_mainloop_ = w.state_cycles;
  }

  // Landing: k-block `slot`'s tiles are written to shared memory at `at`.
  void slot_done(int /*warp*/, int slot, std::int64_t at) override {
    tiles_.at(static_cast<std::size_t>(slot)) = at;
    sm_.wake_all();
  }

  std::vector<TileRequest> requests(std::int64_t kb) const {
    return kblock_requests(launch_, pos_, work_, work_.kblock(kb), kb);
  }

  std::int64_t kblock_bytes(std::int64_t kb) const {
    const KBlock& b = work_.kblock(kb);
    return static_cast<std::int64_t>(b.s_bytes + b.d_bytes);
  }

  // The report's split of the CTA's time, from the lead compute warp's states.
  MainloopStats mainloop(std::int64_t end) const {
    MainloopStats m;
    const auto& s = lead_mainloop_;
    const auto at = [&](WarpState st) { return s[static_cast<std::size_t>(st)]; };
    m.mma_cycles = at(WarpState::selected) + at(WarpState::not_selected) + at(WarpState::wait) +
                   at(WarpState::math_pipe_throttle);
    m.memory_stall_cycles = at(WarpState::long_scoreboard) + at(WarpState::barrier) + at(WarpState::lg_throttle);
    m.smem_stall_cycles = at(WarpState::short_scoreboard) + at(WarpState::mio_throttle);
    m.epilogue_cycles = epilogue_start_ >= 0 ? static_cast<std::uint64_t>(end - epilogue_start_) : 0;
    m.k_blocks = static_cast<std::uint64_t>(work_.k_blocks());
    return m;
  }

  sc_core::sc_event& done() { return done_; }
  const RequestWindowStats& window() const { return window_; }

 private:
  CycleSm& sm_;
  std::size_t slot_;
  const SmHost::Launch& launch_;
  const CtaPos& pos_;
  const CtaWork& work_;
  std::int64_t start_;
  int compute_ = 1;
  int stages_ = 1;
  std::vector<std::int64_t> free_;     // cycle k-block kb's buffer was released by every compute warp
  std::vector<std::int64_t> tiles_;    // cycle k-block kb's tiles are in shared memory
  std::vector<std::int64_t> copies_;   // copy instructions issued for k-block kb
  std::vector<std::int64_t> needed_;   // copy instructions k-block kb needs
  std::vector<int> released_;          // compute warps done with k-block kb
  std::vector<std::int64_t> window_bytes_;  // bytes k-block kb's load holds of the window (-1: not yet known)
  std::vector<std::int64_t> wanted_;   // first cycle k-block kb's load was held back by the window
  RequestWindowStats window_;          // the CTA's loads through the window
  int arrived_ = 0;
  int finished_ = 0;
  std::int64_t epilogue_start_ = -1;
  std::array<std::uint64_t, kWarpStates> lead_mainloop_{};
  sc_core::sc_event done_;
};

CycleSm::CycleSm(const sc_core::sc_module_name& name, const MachineConfig& machine, int id, int slots, SmHost& host)
    : SmModule(name, machine, id, slots, host) {
  const SmConfig& sm = machine.arch.sm;
  const int n = sm.sub_cores;
  const int width = std::max(1, sm.warp_schedulers / sm.sub_cores);
  const auto failf = [this](std::exception_ptr e) { fail(std::move(e)); };
  for (int i = 0; i < n; ++i) {
    math_.push_back(std::make_unique<sc_core::sc_fifo<MmaPacket>>(fmt::format("math_queue{}", i).c_str(), sm.math_queue_depth));
    to_selector_.push_back(std::make_unique<sc_core::sc_fifo<MmaPacket>>(fmt::format("to_selector{}", i).c_str(), 1));
    to_tensor_core_.push_back(std::make_unique<sc_core::sc_fifo<MmaPacket>>(fmt::format("to_tensor_core{}", i).c_str(), 1));
    mio_.push_back(std::make_unique<sc_core::sc_fifo<SmemRequest>>(fmt::format("mio_queue{}", i).c_str(), sm.mio_queue_depth));
    operands_.push_back(std::make_unique<sc_core::sc_fifo<SmemRequest>>(fmt::format("operand_queue{}", i).c_str(), 2));
  }
  landing_q_ = std::make_unique<sc_core::sc_fifo<SmemRequest>>("landing_queue", std::max(1, slots));
  std::vector<sc_core::sc_fifo<SmemRequest>*> inputs;
  for (int i = 0; i < n; ++i) {
    const auto u = static_cast<std::size_t>(i);
    sub_cores_.push_back(std::make_unique<SubCore>(fmt::format("subcore{}", i).c_str(), width, *math_[u], *mio_[u], failf));
    collectors_.push_back(std::make_unique<OperandCollector>(fmt::format("register_file{}", i).c_str(), sm.register_file,
                                                             *math_[u], *to_selector_[u], *operands_[u], failf));
    selectors_.push_back(std::make_unique<SelectorStage>(fmt::format("operand_selector{}", i).c_str(), *to_selector_[u],
                                                         *to_tensor_core_[u], failf));
    pipes_.push_back(std::make_unique<TensorCorePipe>(fmt::format("tensor_core{}", i).c_str(), *to_tensor_core_[u],
                                                      *collectors_[u], failf, sm.tensor_cores_per_sub_core()));
    inputs.push_back(mio_[u].get());
    inputs.push_back(operands_[u].get());
  }
  inputs.push_back(landing_q_.get());
  smem_ = std::make_unique<SharedMemoryUnit>("shared_memory", sm.shared_memory, inputs, failf);
  slot_cta_.assign(static_cast<std::size_t>(slots), nullptr);
  arrivals_.resize(static_cast<std::size_t>(slots));
  for (int s = 0; s < slots; ++s) {
    arrival_event_.push_back(std::make_unique<sc_core::sc_event>());
    const auto index = static_cast<std::size_t>(s);
    sc_core::sc_spawn([this, index] { landing(index); }, sc_core::sc_gen_unique_name("landing"));
  }
}

CycleSm::~CycleSm() = default;

void CycleSm::fail(std::exception_ptr e) {
  if (failed_) return;
  failed_ = true;
  host_.fail(std::move(e));
}

void CycleSm::wake_all() {
  for (auto& s : sub_cores_) s->wake();
}

void CycleSm::start_launch(int slots) {
  coster_ = host_.launch().coster;
  const MachineConfig& m = coster_->machine();
  for (const auto& tc : tensor_cores_) {
    stats_add(retired_.tensor_core, tc->stats());
    stats_add(retired_.operand_selector, tc->selector().stats());
  }
  tensor_cores_.clear();
  const int coop = TensorCore::cooperating_for(m.kernel.instruction);
  for (std::size_t i = 0; i < pipes_.size(); ++i) {
    tensor_cores_.push_back(std::make_unique<TensorCore>(m.arch.tensor_core, m.kernel.instruction, coop));
    pipes_[i]->set_tensor_core(tensor_cores_.back().get());
    selectors_[i]->set_tensor_core(tensor_cores_.back().get());
  }
  const DType t = coster_->dtype();
  spec_.kernel = &m.kernel;
  spec_.cta = m.kernel.cta_tile_for(t);
  spec_.warp = m.kernel.warp_tile_for(t);
  spec_.dense = coster_->dense_instr();
  spec_.sparse = coster_->sparse_instr();
  spec_.has_sparse = coster_->has_sparse();
  spec_.cooperating = coop;
  spec_.fragment_ways = fragment_conflict_ways(m);
  dense_proto_ = MmaPacket{};
  dense_proto_.instr = spec_.dense;
  dense_proto_.fragments = coster_->dense_fragments();
  sparse_proto_ = MmaPacket{};
  sparse_proto_.instr = spec_.sparse;
  sparse_proto_.fragments = coster_->sparse_fragments();
  // Each warp of a warpgroup reads its rows' share of the instruction's metadata.
  sparse_proto_.metadata_bits = coster_->sparse_metadata_bits() / coop;
  SmModule::start_launch(slots);
}

SmActivity CycleSm::units_now() const {
  SmActivity a = retired_;
  for (const auto& tc : tensor_cores_) {
    stats_add(a.tensor_core, tc->stats());
    stats_add(a.operand_selector, tc->selector().stats());
  }
  for (const auto& c : collectors_) stats_add(a.register_file, c->register_file().stats());
  a.shared_memory = smem_->memory().stats();
  return a;
}

CycleSmStats& CycleSmStats::operator+=(const CycleSmStats& o) {
  stats_add(sub_cores, o.sub_cores);
  stats_add(operand_collectors, o.operand_collectors);
  stats_add(selectors, o.selectors);
  stats_add(tensor_core_pipes, o.tensor_core_pipes);
  return *this;
}

CycleSmStats CycleSmStats::operator-(const CycleSmStats& o) const {
  CycleSmStats d;
  d.sub_cores = stats_sub(sub_cores, o.sub_cores);
  d.operand_collectors = stats_sub(operand_collectors, o.operand_collectors);
  d.selectors = stats_sub(selectors, o.selectors);
  d.tensor_core_pipes = stats_sub(tensor_core_pipes, o.tensor_core_pipes);
  return d;
}

CycleSmStats CycleSm::cycle_stats() const {
  CycleSmStats s;
  for (const auto& c : sub_cores_) stats_add(s.sub_cores, c->stats());
  for (const auto& c : collectors_) stats_add(s.operand_collectors, c->stats());
  for (const auto& c : selectors_) stats_add(s.selectors, c->stats());
  for (const auto& c : pipes_) stats_add(s.tensor_core_pipes, c->stats());
  return s;
}

void CycleSm::add_to_waveform(sc_core::sc_trace_file* tf) const {
  SmModule::add_to_waveform(tf);
  for (const auto& c : sub_cores_) c->add_to_waveform(tf);
  for (const auto& p : pipes_) p->add_to_waveform(tf);
}

void CycleSm::landing(std::size_t slot) {
  try {
    for (;;) {
      while (arrivals_[slot].empty()) sc_core::wait(*arrival_event_[slot]);
      const auto [kb, at] = arrivals_[slot].front();
      arrivals_[slot].pop_front();
      sim_wait_until(at);
      Cta* c = slot_cta_[slot];
      if (c == nullptr) throw Error("cycle model: tiles landed for a slot with no CTA");
      landing_q_->write({c->kblock_bytes(kb), true, c, 0, static_cast<int>(kb)});
    }
  } catch (...) {
    fail(std::current_exception());
  }
}

void CycleSm::run_cta(std::size_t slot, std::size_t cta) {
  const SmHost::Launch& l = host_.launch();
  const LaunchPlan& plan = *l.plan;
  const CtaPos& pos = plan.ctas()[cta];
  const CtaWork& w = plan.work_of(pos);
  set_resident(+1);
  Cta c(*this, slot, l, pos, w);
  slot_cta_[slot] = &c;
  const KernelConfig& k = *spec_.kernel;
  for (int i = 0; i < k.warps_per_cta; ++i) {
    auto warp = std::make_unique<Warp>(spec_, w, i, c);
    warp->dense = &dense_proto_;
    warp->sparse = spec_.has_sparse ? &sparse_proto_ : nullptr;
    warp->counts_mmas = i % spec_.cooperating == 0;
    warp->values = l.values;
    warp->pos = &pos;
    warp->lead = i == 0;
    sub_cores_[static_cast<std::size_t>(i) % sub_cores_.size()]->add_warp(std::move(warp));
  }
  sc_core::wait(c.done());
  const std::int64_t end = sim_cycle_now();
  host_.store(end, id_, c_tile_key(l.key, pos.row_block, pos.col_block, pos.copy, pos.split),
              static_cast<std::int64_t>(w.c_bytes));
  slot_cta_[slot] = nullptr;
  SmStats st;
  st.ctas = 1;
  st.mainloop = c.mainloop(end);
  st.load_window = c.window();
  // The modules count for every CTA at once: this CTA's share is what they counted since the last
  // CTA ended (the launch's total is exact).
  const SmActivity now = units_now();
  st.units = now - accounted_;
  accounted_ = now;
  const CycleSmStats c_now = cycle_stats();
  const auto run = static_cast<std::size_t>(l.run);
  if (cycle_per_run_.size() <= run) cycle_per_run_.resize(run + 1);
  cycle_per_run_[run] += c_now - cycle_accounted_;
  cycle_accounted_ = c_now;
  add(st);
  set_resident(-1);
}

}  // namespace stcsim
