#include "report/results.h"

#include <fmt/format.h>

#include <type_traits>

#include "common/strings.h"

namespace stcsim {

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

template <class T>
std::string csv_value(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return csv_field(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return shortest_double(v);
  } else {
    return fmt::format("{}", v);
  }
}

}  // namespace

std::string results_csv(const std::vector<LayerResult>& rows) {
  std::string out;
  bool first = true;
  LayerResult{}.visit([&](const char* name, const auto&) {
    out += first ? "" : ",";
    out += name;
    first = false;
  });
  out += '\n';
  for (const auto& r : rows) {
    first = true;
    r.visit([&](const char*, const auto& v) {
      out += first ? "" : ",";
      out += csv_value(v);
      first = false;
    });
    out += '\n';
  }
  return out;
}

}  // namespace stcsim
