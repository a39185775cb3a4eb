// What an SM did, by unit: the counters its tensor cores, operand selectors, register files and
// shared memory accumulate (each unit's own stats struct), and the SM's own: CTAs run, cycles with a
// CTA resident, and the main loops' cycle attribution. Written to stats.yaml under gpu.smN.
#pragma once

#include <cstdint>
#include <string>

#include "memory/request_window.h"
#include "operand_selector/operand_selector.h"
#include "regfile/register_file.h"
#include "report/stats_tree.h"
#include "sm/mainloop.h"
#include "sm/shared_memory.h"
#include "tensor_core/tensor_core.h"

namespace stcsim {

// The units' counters for some work (a k-block, a CTA, an SM's share of a launch).
struct SmActivity {
  TensorCoreStats tensor_core;
  OperandSelectorStats operand_selector;
  RegisterFileStats register_file;
  SharedMemoryStats shared_memory;

  SmActivity& operator+=(const SmActivity& o);
  // Counter by counter; `o` an earlier snapshot of this activity (no counter larger).
  SmActivity operator-(const SmActivity& o) const;
  // Adds the counters under prefix.tensor_core.*, prefix.operand_selector.*, ...
  void add_to(StatsTree& t, const std::string& prefix) const;
};

struct SmStats {
  std::uint64_t ctas = 0;
  std::uint64_t resident_cycles = 0;  // cycles with at least one CTA resident
  MainloopStats mainloop;             // summed over the SM's CTAs
  RequestWindowStats load_window;     // its loads through the outstanding-bytes window
  SmActivity units;

  SmStats& operator+=(const SmStats& o);
  void add_to(StatsTree& t, const std::string& prefix) const;
};

}  // namespace stcsim
