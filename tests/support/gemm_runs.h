// Builder shared by the whole-model tests: each GEMM of a grid as a run of its own (a one-line trace
// labelled by the layer), so that simulate() reports the lines one by one, each on a cold machine.
#pragma once

#include <vector>

#include "gpu/simulation.h"
#include "trace/gemm.h"

namespace stcsim::testing {

inline std::vector<RunInput> one_run_per_gemm(const std::vector<GemmOp>& grid) {
  std::vector<RunInput> runs;
  for (const GemmOp& g : grid) {
    Trace t;
    t.source = "grid";
    t.ops = {g};
    t.lines = {1};
    runs.push_back({g.layer, t});
  }
  return runs;
}

}  // namespace stcsim::testing
