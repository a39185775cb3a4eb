// The built-in patterns. A new pattern is one file under patterns/ and one line here.
#include "sparsity/registry.h"

namespace stcsim {

void register_dense_pattern(PatternRegistry& reg);
void register_nm_pattern(PatternRegistry& reg);
void register_vnm_pattern(PatternRegistry& reg);
void register_tw_pattern(PatternRegistry& reg);
void register_tvw_pattern(PatternRegistry& reg);
void register_block_pattern(PatternRegistry& reg);
void register_unstructured_pattern(PatternRegistry& reg);

void register_builtin_patterns(PatternRegistry& reg) {
  register_dense_pattern(reg);
  register_nm_pattern(reg);
  register_vnm_pattern(reg);
  register_tw_pattern(reg);
  register_tvw_pattern(reg);
  register_block_pattern(reg);
  register_unstructured_pattern(reg);
}

}  // namespace stcsim
