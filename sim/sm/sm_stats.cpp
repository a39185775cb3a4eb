#include "sm/sm_stats.h"

#include "common/stats_ops.h"

namespace stcsim {

SmActivity& SmActivity::operator+=(const SmActivity& o) {
  stats_add(tensor_core, o.tensor_core);
  stats_add(operand_selector, o.operand_selector);
  stats_add(register_file, o.register_file);
  stats_add(shared_memory, o.shared_memory);
  return *this;
}

SmActivity SmActivity::operator-(const SmActivity& o) const {
  SmActivity d;
  d.tensor_core = stats_sub(tensor_core, o.tensor_core);
  d.operand_selector = stats_sub(operand_selector, o.operand_selector);
  d.register_file = stats_sub(register_file, o.register_file);
  d.shared_memory = stats_sub(shared_memory, o.shared_memory);
  return d;
}

void SmActivity::add_to(StatsTree& t, const std::string& prefix) const {
  t.add_all(prefix + ".tensor_core", tensor_core);
  t.add_all(prefix + ".operand_selector", operand_selector);
  t.add_all(prefix + ".register_file", register_file);
  t.add_all(prefix + ".shared_memory", shared_memory);
}

SmStats& SmStats::operator+=(const SmStats& o) {
  ctas += o.ctas;
  resident_cycles += o.resident_cycles;
  mainloop += o.mainloop;
  load_window += o.load_window;
  units += o.units;
  return *this;
}

void SmStats::add_to(StatsTree& t, const std::string& prefix) const {
  t.add(prefix + ".ctas", ctas);
  t.add(prefix + ".resident_cycles", resident_cycles);
  t.add_all(prefix + ".mainloop", mainloop);
  t.add_all(prefix + ".load_window", load_window);
  units.add_to(t, prefix);
}

}  // namespace stcsim
