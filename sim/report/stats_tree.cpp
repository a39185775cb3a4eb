#include "report/stats_tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "common/strings.h"

namespace stcsim {

void StatsTree::add(const std::string& path, Value v) {
  auto it = values_.find(path);
  if (it == values_.end()) {
    values_.emplace(path, v);
    return;
  }
  if (it->second.index() != v.index()) throw std::logic_error("stats: mixed types at " + path);
  std::visit([&](auto& cur) { cur += std::get<std::decay_t<decltype(cur)>>(v); }, it->second);
}

namespace {

// "sm10" after "sm2": compare the non-digit prefix, then the number.
bool natural_less(const std::string& a, const std::string& b) {
  const auto split_num = [](const std::string& s) {
    std::size_t i = s.size();
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9') --i;
    const std::string digits = s.substr(i);
    return std::pair<std::string, long long>{s.substr(0, i), digits.empty() || digits.size() > 18 ? -1 : std::stoll(digits)};
  };
  const auto pa = split_num(a);
  const auto pb = split_num(b);
  if (pa.first != pb.first) return a < b;
  if (pa.second != pb.second) return pa.second < pb.second;
  return a < b;
}

}  // namespace

std::string StatsTree::to_yaml() const {
  std::vector<std::string> paths;
  for (const auto& [p, v] : values_) paths.push_back(p);
  std::sort(paths.begin(), paths.end(), [](const std::string& a, const std::string& b) {
    const auto pa = split(a, '.');
    const auto pb = split(b, '.');
    for (std::size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
      if (pa[i] != pb[i]) return natural_less(std::string(pa[i]), std::string(pb[i]));
    }
    return pa.size() < pb.size();
  });
  std::string out;
  std::vector<std::string_view> open;  // the mapping keys currently open
  for (const auto& p : paths) {
    const auto parts = split(p, '.');
    std::size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) ++common;
    open.resize(common);
    for (std::size_t i = common; i + 1 < parts.size(); ++i) {
      out += fmt::format("{:{}}{}:\n", "", 2 * i, parts[i]);
      open.push_back(parts[i]);
    }
    const std::string value = std::visit(
        [](const auto& v) -> std::string {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>) {
            return shortest_double(v);
          } else {
            return fmt::format("{}", v);
          }
        },
        values_.at(p));
    out += fmt::format("{:{}}{}: {}\n", "", 2 * (parts.size() - 1), parts.back(), value);
  }
  return out;
}

}  // namespace stcsim
