#include "report/results.h"

#include <fmt/format.h>

#include <type_traits>

#include "common/strings.h"

namespace stcsim {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {

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

LayerResult describe_gemm(const GemmOp& g) {
  LayerResult r;
  r.layer = g.layer;
  r.m = g.m;
  r.n = g.n;
  r.k = g.k;
  r.dtype = g.dtype;
  r.pattern = g.pattern;
  r.count = g.count;
  r.dense_macs = g.dense_macs();
  return r;
}

std::string results_csv(const std::vector<LayerResult>& rows) { return results_csv(rows, ResultsCsvExtras{}); }

std::string results_csv(const std::vector<LayerResult>& rows, const ResultsCsvExtras& extras) {
  auto blank = [&](std::size_t i, const LayerResult& r, const char* name) {
    const std::string n = name;
    if (!r.weight_stats && (n == "weight_density" || n == "metadata_bytes" || n == "magnitude_kept")) return true;
    for (const auto& b : extras.blank) {
      if (b == n) return true;
    }
    if (i < extras.row_blank.size()) {
      for (const auto& b : extras.row_blank[i]) {
        if (b == n) return true;
      }
    }
    return false;
  };
  std::string out;
  bool first = true;
  LayerResult{}.visit([&](const char* name, const auto&) {
    out += first ? "" : ",";
    out += name;
    first = false;
  });
  for (const auto& c : extras.columns) out += "," + csv_field(c);
  out += '\n';
  for (std::size_t i = 0; i < rows.size(); ++i) {
    first = true;
    rows[i].visit([&](const char* name, const auto& v) {
      out += first ? "" : ",";
      if (!blank(i, rows[i], name)) out += csv_value(v);
      first = false;
    });
    if (!extras.columns.empty()) {
      const auto& vals = extras.values.at(i);
      for (std::size_t c = 0; c < extras.columns.size(); ++c) out += "," + (c < vals.size() ? vals[c] : std::string());
    }
    out += '\n';
  }
  return out;
}

}  // namespace stcsim
