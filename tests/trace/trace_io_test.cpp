#include <catch2/catch.hpp>

#include "common/error.h"
#include "trace/trace_io.h"

using namespace stcsim;

namespace {

const PatternRegistry& reg() { return builtin_registry(); }

Trace parse(const std::string& body) { return parse_trace("stcsim-trace v1\n" + body, "t.trace", reg()); }

}  // namespace

TEST_CASE("a trace parses with comments, blank lines and tabs", "[trace]") {
  const Trace t = parse_trace(
      "# a comment first\n\nstcsim-trace v1  # header\n"
      "bert.l0.qkv 4096 2304 768 fp16 B 2:4 12\n"
      "\n"
      "bert.attn\t128\t128\t64\tbf16\t-\tdense\t4608   # trailing comment\n",
      "t.trace", reg());
  REQUIRE(t.ops.size() == 2);
  CHECK(t.lines == std::vector<std::int64_t>{4, 6});
  const GemmOp& g = t.ops[0];
  CHECK(g.layer == "bert.l0.qkv");
  CHECK(g.m == 4096);
  CHECK(g.n == 2304);
  CHECK(g.k == 768);
  CHECK(g.dtype == DType::fp16);
  CHECK(g.sparse == Operand::B);
  CHECK(g.pattern == "2:4");
  CHECK(g.count == 12);
  CHECK(g.sparse_shape() == std::pair<std::int64_t, std::int64_t>{2304, 768});
  CHECK(g.dense_macs() == 4096ULL * 2304 * 768 * 12);
  CHECK(t.ops[1].sparse == Operand::none);
  CHECK(t.ops[1].sparse_shape() == std::pair<std::int64_t, std::int64_t>{128, 64});
}

TEST_CASE("the writer round-trips every field", "[trace]") {
  Trace t;
  t.ops.push_back({"a.b/c[0]", 1, 2, 3, DType::tf32, Operand::A, "1:2", 5});
  t.ops.push_back({"x", 7, 11, 13, DType::int8, Operand::B, "64:2:8", 1});
  t.ops.push_back({"y", 16, 16, 16, DType::fp8, Operand::none, "dense", 2});
  const Trace back = parse_trace(format_trace(t, "made by a test\nsecond line"), "rt.trace", reg());
  CHECK(back.ops == t.ops);
}

TEST_CASE("pattern specs are stored in canonical form", "[trace]") {
  CHECK(parse("l 8 8 8 fp16 B  1:4  1\n").ops[0].pattern == "1:4");
}

TEST_CASE("every malformed line names file, line and field", "[trace]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(parse_trace("l 1 1 1 fp16 B 2:4 1\n", "h.trace", reg()), Contains("h.trace:1: header: expected 'stcsim-trace v1'"));
  CHECK_THROWS_WITH(parse_trace("stcsim-trace v2\n", "h.trace", reg()), Contains("h.trace:1: header: unsupported version 'v2'"));
  CHECK_THROWS_WITH(parse_trace("", "e.trace", reg()), Contains("e.trace:1: header: missing"));
  CHECK_THROWS_WITH(parse("\nl 1 1 fp16 B 2:4 1\n"), Contains("t.trace:3: line: expected 8 fields"));
  CHECK_THROWS_WITH(parse("l x 1 1 fp16 B 2:4 1\n"), Contains("t.trace:2: m: 'x' is not an integer"));
  CHECK_THROWS_WITH(parse("l 1 1.5 1 fp16 B 2:4 1\n"), Contains("t.trace:2: n: '1.5' is not an integer"));
  CHECK_THROWS_WITH(parse("l 1 1 0 fp16 B 2:4 1\n"), Contains("t.trace:2: k: must be in 1.."));
  CHECK_THROWS_WITH(parse("l 1 1 -4 fp16 B 2:4 1\n"), Contains("t.trace:2: k: must be in 1.."));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp64 B 2:4 1\n"), Contains("t.trace:2: dtype: 'fp64' is not one of fp16, bf16"));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp16 C 2:4 1\n"), Contains("t.trace:2: sparse: 'C' is not A, B or -"));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp16 B 4:2 1\n"), Contains("t.trace:2: pattern: pattern '4:2'"));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp16 B 0:4 1\n"), Contains("t.trace:2: pattern:"));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp16 B 2:4:8:1 1\n"), Contains("t.trace:2: pattern:"));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp16 B zz 1\n"), Contains("unknown pattern 'zz' (known: dense"));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp16 - 2:4 1\n"), Contains("t.trace:2: sparse: pattern '2:4' needs the sparse operand"));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp16 B 2:4 0\n"), Contains("t.trace:2: count: must be in 1.."));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp16 B tw(g=128, sparsity=0.5) 1\n"),
                    Contains("t.trace:2: line: expected 8 fields (layer m n k dtype sparse pattern count), got 9: a pattern "
                             "spec cannot hold spaces"));
  CHECK_THROWS_WITH(parse("# only comments\n"), Contains("holds no GEMM lines"));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp16 B 2:4:8 1\n"), Contains("t.trace:2: pattern: pattern '2:4:8': 2N = M"));
  CHECK_THROWS_WITH(parse("l 1 1 1 fp16 B 2:4 x\n"), Contains("t.trace:2: count: 'x' is not an integer"));
  CHECK_THROWS_WITH(parse("l 99999999999 1 1 fp16 B 2:4 1\n"), Contains("t.trace:2: m: must be in 1..2147483647"));
  CHECK_THROWS_WITH(parse("l 99999999999999999999999 1 1 fp16 B 2:4 1\n"), Contains("t.trace:2: m: "));
  CHECK_THROWS_WITH(parse("l 2147483647 2147483647 2147483647 fp16 B 2:4 1\n"), Contains("t.trace:2: m,n,k,count: 2147483647x2147483647x2147483647 x1 overflows"));
  CHECK_THROWS_WITH(parse("bad$name 1 1 1 fp16 B 2:4 1\n"), Contains("t.trace:2: layer:"));
  CHECK_THROWS_WITH(parse_trace(std::string("stcsim-trace v1\nl 1 1 1 fp16 B 2:4 1\0\n", 38), "n.trace", reg()), Contains("n.trace:2: line: contains a NUL byte"));
}
