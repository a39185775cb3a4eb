// Spec strings name a pattern and its parameters, the same on the command line, in traces and in YAML:
//   dense | N:M | V:N:M | name(key=value,...)
// This file only splits a spec into its parts; the pattern families check their own parameters.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stcsim {

struct SpecArgs {
  std::string text;                            // the spec as written (trimmed)
  std::string family;                          // "dense", "nm", "vnm", or the name before '('
  std::vector<std::int64_t> positional;        // N:M -> {N, M}; V:N:M -> {V, N, M}
  std::map<std::string, std::string> named;    // key=value pairs of name(...)

  // Parameter access for the families. Each throws SpecError naming the spec and the key.
  std::int64_t get_int(const std::string& key, std::optional<std::int64_t> fallback = std::nullopt) const;
  double get_double(const std::string& key, std::optional<double> fallback = std::nullopt) const;
  // Throws SpecError if a named key is not in `known`.
  void expect_keys(const std::vector<std::string>& known) const;
};

// Splits a spec string; throws SpecError on bad syntax ("2:4:8:1", "tw(g=", empty keys, ...).
SpecArgs split_spec(const std::string& spec);

// Formats a double parameter the shortest way that reads back to the same value.
std::string format_param(double v);

}  // namespace stcsim
