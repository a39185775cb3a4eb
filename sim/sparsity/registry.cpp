#include "sparsity/registry.h"

#include <fmt/format.h>

#include <stdexcept>

#include "common/error.h"
#include "common/strings.h"

namespace stcsim {

void PatternRegistry::add(PatternFamily family) {
  for (const auto& f : families_) {
    if (f.name == family.name) throw std::logic_error("pattern family registered twice: " + family.name);
  }
  families_.push_back(std::move(family));
}

std::unique_ptr<Pattern> PatternRegistry::make(const std::string& spec) const {
  const SpecArgs args = split_spec(spec);
  for (const auto& f : families_) {
    if (f.name == args.family) return f.make(args);
  }
  throw SpecError(fmt::format("pattern '{}': unknown pattern '{}' (known: {})", args.text, args.family, known_syntax()));
}

std::string PatternRegistry::known_syntax() const {
  std::vector<std::string> names;
  for (const auto& f : families_) names.push_back(f.syntax);
  return join(names, ", ");
}

const PatternRegistry& builtin_registry() {
  static const PatternRegistry reg = [] {
    PatternRegistry r;
    register_builtin_patterns(r);
    return r;
  }();
  return reg;
}

}  // namespace stcsim
