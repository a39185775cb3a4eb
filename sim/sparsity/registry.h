// The pattern registry: spec string -> Pattern. An object, not a global; filled by
// register_builtin_patterns(). Adding a pattern: one file under patterns/ and one line in builtin.cpp.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sparsity/pattern.h"
#include "sparsity/spec.h"

namespace stcsim {

struct PatternFamily {
  std::string name;     // the family name the spec splitter yields ("nm" for N:M specs)
  std::string syntax;   // how to write it, for help and error messages: "N:M (1 <= N < M <= 16)"
  std::string summary;  // one line on what it is
  std::function<std::unique_ptr<Pattern>(const SpecArgs&)> make;  // throws SpecError on bad parameters
};

class PatternRegistry {
 public:
  // Throws std::logic_error when the name is taken: that is a programming error, not bad input.
  void add(PatternFamily family);

  // Parses a spec string; SpecError on bad syntax or parameters, and on an unknown name, listing the known ones.
  std::unique_ptr<Pattern> make(const std::string& spec) const;
  // The canonical form of a spec (validating it).
  std::string canonical(const std::string& spec) const { return make(spec)->spec(); }

  const std::vector<PatternFamily>& families() const { return families_; }
  std::string known_syntax() const;

 private:
  std::vector<PatternFamily> families_;
};

void register_builtin_patterns(PatternRegistry& reg);

// A registry with the built-in patterns, built once; for callers that do not extend it.
const PatternRegistry& builtin_registry();

}  // namespace stcsim
