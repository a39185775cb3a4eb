// Every counter of a run under its module's hierarchical name ("gpu.sm3.tensor_core.busy_cycles"),
// accumulated over the launches of a trace and written as stats.yaml, nested by name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>

namespace stcsim {

class StatsTree {
 public:
  using Value = std::variant<std::uint64_t, std::int64_t, double>;

  // Adds `v` to the counter at `path` ("a.b.c"); a new counter starts at v. Mixing types at one
  // path is a programming error (std::logic_error).
  void add(const std::string& path, Value v);

  // Adds every counter of a stats struct (its visit(f) lists them) under `prefix`.
  template <class Stats>
  void add_all(const std::string& prefix, const Stats& s) {
    const_cast<Stats&>(s).visit([&](const char* name, const auto& v) { add(prefix + "." + name, to_value(v)); });
  }

  const std::map<std::string, Value>& values() const { return values_; }
  // Nested YAML, keys sorted (numbers in names sorted numerically: sm2 before sm10).
  std::string to_yaml() const;

 private:
  static Value to_value(std::uint64_t v) { return v; }
  static Value to_value(std::int64_t v) { return v; }
  static Value to_value(int v) { return static_cast<std::int64_t>(v); }
  static Value to_value(double v) { return v; }

  std::map<std::string, Value> values_;
};

}  // namespace stcsim
