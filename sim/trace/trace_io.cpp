#include "trace/trace_io.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "common/error.h"
#include "common/file_io.h"
#include "common/strings.h"

namespace stcsim {

namespace {

constexpr const char* kFields[] = {"layer", "m", "n", "k", "dtype", "sparse", "pattern", "count"};

bool valid_layer_name(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-' || c == '/' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return !s.empty();
}

}  // namespace

Trace parse_trace(const std::string& text, const std::string& name, const PatternRegistry& reg) {
  Trace t;
  t.source = name;
  bool header_seen = false;
  std::int64_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find('\0') != std::string_view::npos) throw ParseError(name, line_no, "line", "contains a NUL byte (binary file?)");
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    if (!header_seen) {
      const auto words = split_ws(line);
      if (words.size() == 2 && words[0] == "stcsim-trace") {
        if (words[1] != "v1") throw ParseError(name, line_no, "header", fmt::format("unsupported version '{}' (this build reads v1)", std::string(words[1])));
        header_seen = true;
        continue;
      }
      throw ParseError(name, line_no, "header", fmt::format("expected '{}' before the first GEMM", kTraceHeader));
    }
    const auto f = split_ws(line);
    if (f.size() != 8) {
      // A spec written with spaces, tw(g=128, sparsity=0.5), splits into more fields: say so.
      const auto open = line.find('(');
      const auto close = line.find(')', open == std::string_view::npos ? 0 : open);
      const bool spaced_spec = open != std::string_view::npos && close != std::string_view::npos &&
                               line.substr(open, close - open).find_first_of(" \t") != std::string_view::npos;
      throw ParseError(name, line_no, "line",
                       fmt::format("expected 8 fields ({}), got {}{}", "layer m n k dtype sparse pattern count", f.size(),
                                   spaced_spec ? ": a pattern spec cannot hold spaces (write tw(g=128,sparsity=0.5))" : ""));
    }
    GemmOp g;
    if (!valid_layer_name(f[0])) throw ParseError(name, line_no, "layer", fmt::format("'{}' has characters outside [A-Za-z0-9_.-/[]]", std::string(f[0])));
    g.layer = std::string(f[0]);
    std::int64_t* dims[] = {&g.m, &g.n, &g.k};
    for (int i = 0; i < 3; ++i) {
      const auto v = parse_int(f[1 + i]);
      if (!v) throw ParseError(name, line_no, kFields[1 + i], fmt::format("'{}' is not an integer", std::string(f[1 + i])));
      *dims[i] = *v;
    }
    const auto dt = parse_dtype(f[4]);
    if (!dt) throw ParseError(name, line_no, "dtype", fmt::format("'{}' is not one of {}", std::string(f[4]), dtype_choices()));
    g.dtype = *dt;
    const auto op = parse_operand(f[5]);
    if (!op) throw ParseError(name, line_no, "sparse", fmt::format("'{}' is not A, B or -", std::string(f[5])));
    g.sparse = *op;
    try {
      g.pattern = reg.canonical(std::string(f[6]));
    } catch (const SpecError& e) {
      throw ParseError(name, line_no, "pattern", e.what());
    }
    const auto count = parse_int(f[7]);
    if (!count) throw ParseError(name, line_no, "count", fmt::format("'{}' is not an integer", std::string(f[7])));
    g.count = *count;
    if (const auto problem = gemm_problem(g)) throw ParseError(name, line_no, problem->first, problem->second);
    t.ops.push_back(std::move(g));
    t.lines.push_back(line_no);
  }
  if (!header_seen) throw ParseError(name, line_no == 0 ? 1 : line_no, "header", fmt::format("missing '{}' (empty trace?)", kTraceHeader));
  if (t.ops.empty()) throw ParseError(name, line_no, "trace", "holds no GEMM lines, only the header: nothing to simulate");
  return t;
}

Trace read_trace(const std::string& path, const PatternRegistry& reg) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxTraceBytes) {
    throw IoError(fmt::format("{}: {} bytes; trace files are read whole and may hold at most {} (64 MiB): merge "
                                 "repeated lines with the count column, or split the trace",
                                 path, size, kMaxTraceBytes));
  }
  return parse_trace(read_file(path), path, reg);
}

std::string format_trace(const Trace& t, const std::string& comment) {
  std::string out = std::string(kTraceHeader) + "\n";
  for (auto line : split(comment, '\n')) {
    if (!trim(line).empty()) out += fmt::format("# {}\n", std::string(line));
  }
  std::size_t width = 5;
  for (const auto& g : t.ops) width = std::max(width, g.layer.size());
  out += fmt::format("# {:<{}} {:>7} {:>7} {:>7} {:<5} {:<6} {:<12} {}\n", "layer", width - 2, "m", "n", "k", "dtype", "sparse", "pattern", "count");
  for (const auto& g : t.ops) {
    out += fmt::format("{:<{}} {:>7} {:>7} {:>7} {:<5} {:<6} {:<12} {}\n", g.layer, width, g.m, g.n, g.k, dtype_name(g.dtype),
                       operand_name(g.sparse), g.pattern, g.count);
  }
  return out;
}

void write_trace(const std::string& path, const Trace& t, const std::string& comment) {
  write_file_atomic(path, format_trace(t, comment));
}

}  // namespace stcsim
