// Dynamic processes: one thread per CTA slot, spawned while the module is built.
#define SC_INCLUDE_DYNAMIC_PROCESSES

#include "sm/sm_module.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <optional>
#include <utility>

#include "common/checked.h"
#include "common/error.h"
#include "memory/l2_tile_key.h"
#include "sm/warp_program.h"

namespace stcsim {

namespace {
const sc_core::sc_time kCycle(1, sc_core::SC_NS);
constexpr std::int64_t kNoCycle = std::numeric_limits<std::int64_t>::max();
}  // namespace

std::int64_t sim_cycle_now() { return static_cast<std::int64_t>(sc_core::sc_time_stamp() / kCycle); }

void sim_wait_until(std::int64_t cycle) {
  const std::int64_t t = sim_cycle_now();
  if (cycle > t) sc_core::wait(kCycle * static_cast<double>(cycle - t));
}

SmModule::SmModule(const sc_core::sc_module_name& name, const MachineConfig& machine, int id, int slots, SmHost& host)
    : sc_core::sc_module(name), machine_(machine), id_(id), host_(host), window_(machine.arch.sm.max_outstanding_bytes) {
  for (int s = 0; s < slots; ++s) {
    slot_go_.push_back(std::make_unique<sc_core::sc_event>());
    const auto index = static_cast<std::size_t>(s);
    sc_core::sc_spawn([this, index] { slot(index); }, sc_core::sc_gen_unique_name("slot"));
  }
}

void SmModule::add(const SmStats& delta) {
  const auto i = static_cast<std::size_t>(host_.launch().run);
  if (per_run_.size() <= i) per_run_.resize(i + 1);
  per_run_[i] += delta;
  host_.account(delta);
}

SmStats SmModule::total() const {
  SmStats t;
  for (const SmStats& s : per_run_) t += s;
  return t;
}

void SmModule::add_to_waveform(sc_core::sc_trace_file* tf) const {
  const std::string base = name();
  sc_core::sc_trace(tf, resident_, base + ".resident_ctas");
  sc_core::sc_trace(tf, loads_issued_, base + ".kblock_loads");
}

void SmModule::set_resident(int delta) {
  const std::int64_t now = sim_cycle_now();
  if (resident_ > 0 && now > resident_since_) {
    SmStats d;
    d.resident_cycles = static_cast<std::uint64_t>(now - resident_since_);
    add(d);
  }
  resident_since_ = now;
  resident_ += delta;
}

void SmModule::start_launch(int slots) {
  if (slots < 1 || static_cast<std::size_t>(slots) > slot_go_.size()) {
    throw Error(fmt::format("sm{}: a launch asks for {} CTA slots; the SM was built with {}", id_, slots, slot_go_.size()));
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(slots); ++i) slot_go_[i]->notify(sc_core::SC_ZERO_TIME);
}

void SmModule::slot(std::size_t index) {
  for (;;) {
    sc_core::wait(*slot_go_[index]);
    // Breadth-first dealing at a launch's start: slot i of every SM asks i delta cycles in, so the
    // first CTAs go one to an SM before any SM gets a second (as the GPU's block scheduler spreads a
    // small grid). Later CTAs go to whichever slot frees first.
    for (std::size_t d = 0; d < index; ++d) sc_core::wait(sc_core::SC_ZERO_TIME);
    try {
      while (const auto c = host_.next_cta(id_)) run_cta(index, *c);
    } catch (...) {
      host_.fail(std::current_exception());
      return;
    }
    host_.slot_finished();
  }
}

std::vector<TileRequest> SmModule::kblock_requests(const SmHost::Launch& l, const CtaPos& pos, const CtaWork& w,
                                                   const KBlock& kb, std::int64_t i) {
  const LaunchPlan& plan = *l.plan;
  // A cluster has no more CTAs along m than the launch has row blocks.
  const KernelConfig& kernel = l.coster->machine().kernel;  // the launch's kernel (one of the candidates)
  const int cluster_m = plan.cluster_for(kernel.cluster_m);
  const TileKey d_key = plan.d_key(pos, i);
  // Plain D tiles (shared by every row block, not gathered) are multicast within the kernel's
  // cluster: this SM pulls its slice. A gathered D tile (tw/tvw, V:N:M) is pulled in part out of
  // its region.
  const auto d_bytes = static_cast<std::int64_t>(kb.d_bytes);
  TileRequest d{l2_key(d_key, l.key), d_bytes, -1};
  if (kb.d_region_bytes > 0) {
    d.bytes = static_cast<std::int64_t>(kb.d_region_bytes);
    d.link_bytes = d_bytes;
    // Gatherers: a tw/tvw tile (its row blocks gather the same rows), or a V:N:M row block.
    const std::int64_t tile = plan.row_blocks()[pos.row_block].tile;
    d.gatherer = tile >= 0 ? tile : std::int64_t{pos.row_block};
    d.gather_seq = w.kblock_key(i);
    const LaunchPlan::GatherRows rows = plan.d_gather_rows(pos, i);
    d.rows = rows.rows;
    d.row_count = rows.count;
    d.region_rows = rows.region_rows;
  } else if (d_key.group < 0 && cluster_m > 1) {
    d.link_bytes = d_link_slice(d_bytes, cluster_m);
  }
  return {{l2_key(plan.s_key(pos, i), l.key), static_cast<std::int64_t>(kb.s_bytes), -1}, d};
}

std::int64_t SmModule::window_bytes(const std::vector<TileRequest>& tiles) {
  std::int64_t b = 0;
  for (const TileRequest& t : tiles) b += t.link();
  return b;
}

std::int64_t SmModule::issue_load(const std::vector<TileRequest>& tiles, std::int64_t wanted, RequestWindowStats& st) {
  const std::int64_t now = sim_cycle_now();
  const std::int64_t arrival = host_.load(now, id_, tiles);
  const RequestWindowStats before = window_.stats();
  window_.issue(now, window_bytes(tiles), arrival, wanted);
  const RequestWindowStats& after = window_.stats();
  st.requests += after.requests - before.requests;
  st.bytes += after.bytes - before.bytes;
  st.throttled_requests += after.throttled_requests - before.throttled_requests;
  st.throttle_cycles += after.throttle_cycles - before.throttle_cycles;
  st.peak_bytes = std::max(st.peak_bytes, after.peak_bytes);
  return arrival;
}

void SmModule::run_cta(std::size_t /*slot*/, std::size_t cta) {
  const SmHost::Launch& l = host_.launch();
  const LaunchPlan& plan = *l.plan;
  const CtaPos& pos = plan.ctas()[cta];
  const CtaWork& w = plan.work_of(pos);
  set_resident(+1);

  const KernelConfig& kernel = l.coster->machine().kernel;  // the launch's kernel (one of the candidates)
  Mainloop ml(sim_cycle_now(), w.k_blocks(), kernel.stages, l.coster->drain_cycles(), l.coster->copies_after_tiles());
  // Equal consecutive k-blocks cost the same: price each run once. Block sparsity's row segments
  // issue unequal steps: priced from the tiles the warps are dealt.
  const std::optional<MmaTiles> tiles =
      w.segment_rows.empty() ? std::nullopt : std::optional<MmaTiles>(l.coster->tiles_for(w));
  const UnitLoad load = tiles ? l.coster->unit_load(w, *tiles) : UnitLoad{};
  const auto price = [&](const KBlock& b) { return tiles ? l.coster->cost(b, *tiles, load) : l.coster->cost(b); };
  std::size_t run = 0;
  std::int64_t left_in_run = w.runs().empty() ? 0 : w.runs()[0].repeat;
  KBlockCost cost = w.runs().empty() ? KBlockCost{} : price(w.runs()[0].block);
  // Loads issue as their buffers free; each k-block takes the SM's tensor cores when its tiles have
  // arrived, in the order tiles arrive across the SM's slots (not the order loads were issued).
  std::deque<std::pair<std::int64_t, KBlockCost>> in_flight;  // arrival and cost, in k-block order
  SmStats st;
  std::int64_t i = 0;
  std::int64_t want = 0;                // cycle k-block i's load could issue, window aside
  std::vector<TileRequest> reqs;        // its requests, built once
  std::int64_t reqs_for = -1;
  while (i < w.k_blocks() || !in_flight.empty()) {
    std::int64_t issue_at = kNoCycle;
    if (i < w.k_blocks() && ml.buffer_known()) {
      if (left_in_run == 0) {
        ++run;
        left_in_run = w.runs()[run].repeat;
        cost = price(w.runs()[run].block);
      }
      if (reqs_for != i) {
        reqs = kblock_requests(l, pos, w, w.runs()[run].block, i);
        reqs_for = i;
      }
      want = ml.next_load_issue(copy_instructions_per_warp(kernel, w.runs()[run].block));
      issue_at = load_admit_at(std::max(want, sim_cycle_now()), window_bytes(reqs));
    }
    const std::int64_t arrive_at = in_flight.empty() ? kNoCycle : in_flight.front().first;
    if (issue_at <= arrive_at && issue_at != kNoCycle) {
      sim_wait_until(issue_at);
      // Another slot of this SM may have taken the window while this one waited: ask again.
      if (load_admit_at(sim_cycle_now(), window_bytes(reqs)) > sim_cycle_now()) continue;
      ml.load_issued(sim_cycle_now());
      --left_in_run;
      ++loads_issued_;
      in_flight.emplace_back(issue_load(reqs, want, st.load_window), cost);
      ++i;
    } else {
      sim_wait_until(arrive_at);
      tc_free_ = ml.load_arrived(arrive_at, in_flight.front().second, tc_free_);
      in_flight.pop_front();
    }
  }
  // The epilogue stages the C tile through shared memory; the slot holds the CTA until its store issues.
  const std::int64_t epilogue = l.coster->epilogue_cycles(w.c_bytes);
  sim_wait_until(ml.finish() + epilogue);
  host_.store(sim_cycle_now(), id_, c_tile_key(l.key, pos.row_block, pos.col_block, pos.copy, pos.split),
              static_cast<std::int64_t>(w.c_bytes));
  st.ctas = 1;
  st.mainloop = ml.stats();
  st.mainloop.epilogue_cycles = static_cast<std::uint64_t>(epilogue);
  st.units = (*l.work_activity)[pos.work];
  add(st);
  set_resident(-1);
}

}  // namespace stcsim
