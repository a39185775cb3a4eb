// One streaming multiprocessor as SystemC sees it: its CTA slots, each a thread that takes CTAs
// from the global tile scheduler and plays their main loops (mainloop.h) in simulated time, and the
// tensor cores the slots share (one "free from" cycle per SM: a k-block takes them when its tiles
// have arrived, in the order tiles arrive across the slots).
// The fine units are plain C++ the slots consult: KBlockCoster prices each k-block from the tensor
// core, register file and shared-memory models, and counts their activity. The SM does not wake per
// cycle: a slot computes when its next load may issue and waits until then (docs/model.md, "Timing").
// Loads go through the SM's window of outstanding bytes (memory/request_window.h), shared by its
// slots: a slot whose next load does not fit waits until earlier loads have arrived.
// Left out: warp scheduling within a CTA, and CTA launch overhead.
#pragma once

#include <systemc>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <vector>

#include "config/machine_config.h"
#include "memory/memory_system.h"
#include "memory/request_window.h"
#include "scheduler/launch_plan.h"
#include "sm/cycle_packets.h"
#include "sm/kblock_cost.h"
#include "sm/sm_stats.h"

namespace stcsim {

// The launch an SM is running and the GPU around it: what SmModule needs from its parent.
class SmHost {
 public:
  struct Launch {
    const LaunchPlan* plan = nullptr;
    const KBlockCoster* coster = nullptr;
    std::int64_t index = 0;                            // launch number in the simulation, for stats
    std::int64_t key = 0;                              // launch number since the memory system was fresh, for L2 keys
    const std::vector<SmActivity>* work_activity = nullptr;  // per work class of the plan
    std::int64_t run = 0;  // the run (a sequence of launches on one memory system) it belongs to
    MmaValues* values = nullptr;  // functional mode: computes the cycle model's MMAs (null: timing only)
  };

  virtual ~SmHost() = default;
  virtual const Launch& launch() const = 0;
  virtual std::optional<std::size_t> next_cta(int sm) = 0;
  // The memory system, through the host so that it sees every request.
  virtual std::int64_t load(std::int64_t now, int sm, const std::vector<TileRequest>& tiles) = 0;
  virtual std::int64_t store(std::int64_t now, int sm, const L2TileKey& key, std::int64_t bytes) = 0;
  // A slot found no CTA left in this launch.
  virtual void slot_finished() = 0;
  // What the SM just did (a CTA's counters, or resident cycles), for the launch's totals.
  virtual void account(const SmStats& /*delta*/) {}
  // A slot hit an error (a model inconsistency or a resource limit): the host stops the simulation
  // and reports it; the slot's thread ends.
  virtual void fail(std::exception_ptr e) = 0;
};

class SmModule : public sc_core::sc_module {
 public:
  // `slots` CTA slots: the most any launch uses (TileScheduler::ctas_per_sm of its kernel).
  SmModule(const sc_core::sc_module_name& name, const MachineConfig& machine, int id, int slots, SmHost& host);
  ~SmModule() override = default;

  int id() const { return id_; }
  // Starts the host's current launch on its first `slots` slots (as many as its kernel fits on an
  // SM): woken in a fixed order (slot 0 first), they take CTAs until next_cta says none is left. The
  // order does not depend on how the last launch ended, so a launch gives the same cycles whatever
  // ran before it on a fresh memory system. Throws Error if `slots` exceeds the module's.
  virtual void start_launch(int slots);
  // Stats per run (index = SmHost::Launch::run), and summed. Kept per run, not per launch, so that
  // memory does not grow with the trace's length.
  const std::vector<SmStats>& per_run() const { return per_run_; }
  SmStats total() const;
  // Adds the SM's main signals (resident CTAs, k-block loads issued) to a waveform.
  virtual void add_to_waveform(sc_core::sc_trace_file* tf) const;

 protected:
  // Plays one CTA of the host's launch on slot `slot` from now to its C store (the fast model: its main loop's
  // k-blocks priced by the launch's KBlockCoster). Runs in a slot's thread.
  virtual void run_cta(std::size_t slot, std::size_t cta);
  void set_resident(int delta);
  void add(const SmStats& delta);
  // The L2 requests of k-block i (`kb`) of the CTA at `pos` doing `w`: its S tile and its D tile.
  static std::vector<TileRequest> kblock_requests(const SmHost::Launch& l, const CtaPos& pos, const CtaWork& w,
                                                  const KBlock& kb, std::int64_t i);
  int slots() const { return static_cast<int>(slot_go_.size()); }
  // Bytes a load of `tiles` brings to this SM (their link bytes): what it holds of the SM's window.
  static std::int64_t window_bytes(const std::vector<TileRequest>& tiles);
  // First cycle >= at at which a load of `bytes` fits the SM's window of outstanding loads.
  std::int64_t load_admit_at(std::int64_t at, std::int64_t bytes) const { return window_.admit_at(at, bytes); }
  // Issues `tiles` to the memory system now through the window (which must admit them, see
  // load_admit_at); `wanted` is when the load could have issued without the window. Returns the
  // arrival; the window's counters for it go to `st`.
  std::int64_t issue_load(const std::vector<TileRequest>& tiles, std::int64_t wanted, RequestWindowStats& st);

  const MachineConfig& machine_;
  int id_;
  SmHost& host_;

 private:
  void slot(std::size_t index);

  RequestWindow window_;      // loads outstanding to L2/DRAM, shared by the slots
  std::int64_t tc_free_ = 0;  // cycle the SM's tensor cores are next free
  int resident_ = 0;          // CTAs resident now
  std::int64_t resident_since_ = 0;
  std::int64_t loads_issued_ = 0;
  std::vector<SmStats> per_run_;
  std::vector<std::unique_ptr<sc_core::sc_event>> slot_go_;
};

// Simulated time is counted in core cycles: one cycle is one nanosecond of SystemC time (waveforms
// read in ns are cycles).
std::int64_t sim_cycle_now();
void sim_wait_until(std::int64_t cycle);

}  // namespace stcsim
