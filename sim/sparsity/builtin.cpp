// The built-in patterns. A new pattern is one file under patterns/ and one line here.
#include "sparsity/registry.h"

namespace stcsim {

void register_dense_pattern(PatternRegistry& reg);
void register_nm_pattern(PatternRegistry& reg);

void register_builtin_patterns(PatternRegistry& reg) {
  register_dense_pattern(reg);
  register_nm_pattern(reg);
}

}  // namespace stcsim
