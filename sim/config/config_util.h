// Helpers shared by the machine-config loaders (arch, kernel, energy): enum tables read and written
// by name, integer reads narrowed to int, and scalars for the resolved-config dump.
// Not a public interface: components read YAML through Section (yaml_doc.h) and these helpers.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_doc.h"

namespace stcsim {

// One row of an enum's name table; each enum has one table, the only place its spellings live.
template <class E>
struct EnumName {
  E value;
  std::string_view name;
};

template <class E, std::size_t N>
std::vector<std::string> enum_choices(const EnumName<E> (&table)[N]) {
  std::vector<std::string> out;
  for (const auto& row : table) out.emplace_back(row.name);
  return out;
}

template <class E, std::size_t N>
std::string_view enum_name(E value, const EnumName<E> (&table)[N]) {
  for (const auto& row : table) {
    if (row.value == value) return row.name;
  }
  return "?";
}

// The value named `name`; callers pass only names the table holds (Section checked them).
template <class E, std::size_t N>
E enum_value(const std::string& name, const EnumName<E> (&table)[N]) {
  for (const auto& row : table) {
    if (row.name == name) return row.value;
  }
  return table[0].value;
}

template <class E, std::size_t N>
E get_enum(Section& s, const std::string& key, const EnumName<E> (&table)[N]) {
  return enum_value(s.get_choice(key, enum_choices(table)), table);
}

template <class E, std::size_t N>
void opt_enum(Section& s, const std::string& key, E& value, const EnumName<E> (&table)[N]) {
  std::string name(enum_name(value, table));
  s.opt_choice(key, name, enum_choices(table));
  value = enum_value(name, table);
}

// A required integer that must fit an int; `max` defaults to INT32_MAX.
inline int get_int32(Section& s, const std::string& key, std::int64_t min, std::int64_t max = INT32_MAX) {
  return static_cast<int>(s.get_int(key, {min, max}));
}

// Scalars for to_yaml(): doubles in fmt's shortest round-trip form ("700", "0.0713"), so a dump
// reads back exactly.
inline YAML::Node yaml_value(std::int64_t v) { return YAML::Node(fmt::format("{}", v)); }
inline YAML::Node yaml_value(int v) { return YAML::Node(fmt::format("{}", v)); }
inline YAML::Node yaml_value(double v) { return YAML::Node(fmt::format("{}", v)); }
inline YAML::Node yaml_value(bool v) { return YAML::Node(v ? "true" : "false"); }
inline YAML::Node yaml_value(std::string_view v) { return YAML::Node(std::string(v)); }
inline YAML::Node yaml_value(const std::string& v) { return YAML::Node(v); }
inline YAML::Node yaml_value(const char* v) { return YAML::Node(std::string(v)); }

inline YAML::Node yaml_map() { return YAML::Node(YAML::NodeType::Map); }
inline YAML::Node yaml_flow_map() {
  YAML::Node n(YAML::NodeType::Map);
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

}  // namespace stcsim
