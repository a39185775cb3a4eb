#include "sparsity/spec.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/strings.h"

namespace stcsim {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

[[noreturn]] void fail(const std::string& spec, const std::string& why) {
  throw SpecError(fmt::format("pattern '{}': {}", spec, why));
}

}  // namespace

SpecArgs split_spec(const std::string& spec_in) {
  SpecArgs a;
  a.text = std::string(trim(spec_in));
  const std::string& s = a.text;
  if (s.empty()) fail(s, "empty spec");

  if (s.find(':') != std::string::npos && s.find('(') == std::string::npos) {
    const auto parts = split(s, ':');
    if (parts.size() != 2 && parts.size() != 3) {
      fail(s, "expected N:M or V:N:M (two or three integers separated by ':')");
    }
    for (auto p : parts) {
      const auto v = parse_int(p);
      if (!v) fail(s, fmt::format("'{}' is not an integer", std::string(trim(p))));
      a.positional.push_back(*v);
    }
    a.family = parts.size() == 2 ? "nm" : "vnm";
    return a;
  }

  const auto open = s.find('(');
  if (open == std::string::npos) {
    for (char c : s) {
      if (!is_name_char(c)) fail(s, fmt::format("unexpected character '{}'", c));
    }
    a.family = s;
    return a;
  }
  if (s.back() != ')') fail(s, "missing ')' at the end");
  a.family = std::string(trim(std::string_view(s).substr(0, open)));
  if (a.family.empty()) fail(s, "missing pattern name before '('");
  for (char c : a.family) {
    if (!is_name_char(c)) fail(s, fmt::format("unexpected character '{}' in the name", c));
  }
  const std::string_view body = std::string_view(s).substr(open + 1, s.size() - open - 2);
  if (trim(body).empty()) return a;
  for (auto item : split(body, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) fail(s, fmt::format("'{}' is not key=value", std::string(trim(item))));
    const std::string key(trim(item.substr(0, eq)));
    const std::string value(trim(item.substr(eq + 1)));
    if (key.empty()) fail(s, "empty key");
    if (value.empty()) fail(s, fmt::format("{}: empty value", key));
    if (value.find_first_of("()=") != std::string::npos) fail(s, fmt::format("{}: bad value '{}'", key, value));
    if (!a.named.emplace(key, value).second) fail(s, fmt::format("{}: given twice", key));
  }
  return a;
}

std::int64_t SpecArgs::get_int(const std::string& key, std::optional<std::int64_t> fallback) const {
  const auto it = named.find(key);
  if (it == named.end()) {
    if (fallback) return *fallback;
    fail(text, fmt::format("missing parameter {}", key));
  }
  const auto v = parse_int(it->second);
  if (!v) fail(text, fmt::format("{}: '{}' is not an integer", key, it->second));
  return *v;
}

double SpecArgs::get_double(const std::string& key, std::optional<double> fallback) const {
  const auto it = named.find(key);
  if (it == named.end()) {
    if (fallback) return *fallback;
    fail(text, fmt::format("missing parameter {}", key));
  }
  const auto v = parse_double(it->second);
  if (!v) fail(text, fmt::format("{}: '{}' is not a number", key, it->second));
  return *v;
}

void SpecArgs::expect_keys(const std::vector<std::string>& known) const {
  for (const auto& [k, v] : named) {
    bool ok = false;
    for (const auto& n : known) ok = ok || n == k;
    if (!ok) fail(text, fmt::format("unknown parameter '{}' (known: {})", k, join(known, ", ")));
  }
}

std::string format_param(double v) { return shortest_double(v); }

}  // namespace stcsim
