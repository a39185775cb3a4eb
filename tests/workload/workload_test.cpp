// Workload loading and trace generation: shapes, convolutions, strict errors with file:line and key
// path, and the invariants every generated trace keeps.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "workload/workload.h"

using namespace stcsim;

namespace {

// A small transformer workload: two layers (lines 10 and 11), then `layers` from line 12 on;
// `extra` adds top-level keys at line 9.
std::string transformer(const std::string& layers = "", const std::string& extra = "") {
  return "name: tiny\n"
         "description: test\n"
         "source: none\n"
         "params:\n"
         "  hidden: 64\n"
         "  heads: 4\n"
         "  head_dim: hidden / heads\n"
         "defaults: {batch: 2, seq: 8}\n" +
         extra +
         "layers:\n"
         "  - {name: qkv, m: batch*seq, n: 3*hidden, k: hidden, count: 2, weights: B}\n"
         "  - {name: score, m: seq, n: seq, k: head_dim, count: batch*heads*2, weights: none}\n" +
         layers;
}

std::string cnn(const std::string& layers) {
  return "name: cnn\ndescription: test\nsource: none\nparams:\n  image: 32\ndefaults: {batch: 4}\nlayers:\n" + layers;
}

Workload parse(const std::string& text) { return parse_workload(text, "w.yaml"); }

}  // namespace

TEST_CASE("a transformer workload makes one trace line per layer entry", "[workload]") {
  const Workload w = parse(transformer());
  CHECK(w.name == "tiny");
  CHECK(w.takes_seq());
  CHECK(w.default_batch == 2);
  CHECK(*w.default_seq == 8);
  CHECK(w.dtype == DType::fp16);
  REQUIRE(w.params.size() == 3);
  CHECK(w.params[2] == std::pair<std::string, std::int64_t>{"head_dim", 16});

  const Trace t = generate_trace(w, 3, 16, "2:4");
  REQUIRE(t.ops.size() == 2);
  const GemmOp& qkv = t.ops[0];
  CHECK(qkv.layer == "tiny.qkv");
  CHECK((qkv.m == 48 && qkv.n == 192 && qkv.k == 64 && qkv.count == 2));
  CHECK(qkv.sparse == Operand::B);
  CHECK(qkv.pattern == "2:4");
  const GemmOp& score = t.ops[1];
  CHECK(score.layer == "tiny.score");
  CHECK((score.m == 16 && score.n == 16 && score.k == 16 && score.count == 3 * 4 * 2));
  CHECK(score.sparse == Operand::none);
  CHECK(score.pattern == "dense");
  CHECK(t.source == "w.yaml");
  CHECK(t.lines == std::vector<std::int64_t>{10, 11});

  // Patterns are canonicalised, the dtype can be overridden, and weights: A is kept.
  const Workload wa = parse(transformer("  - {name: proj, m: hidden, n: batch*seq, k: hidden, weights: A}\n"));
  const Trace ta = generate_trace(wa, 1, 8, " 2:4 ", DType::bf16);
  CHECK(ta.ops[2].sparse == Operand::A);
  CHECK(ta.ops[2].pattern == "2:4");
  CHECK(ta.ops[2].dtype == DType::bf16);
  CHECK(ta.ops[1].dtype == DType::bf16);
  CHECK_THROWS_WITH(generate_trace(wa, 1, 8, "4:2"), Catch::Contains("pattern '4:2'"));
}

TEST_CASE("batch and seq are checked against what the workload takes", "[workload]") {
  const Workload w = parse(transformer("", "max_seq: 64\n"));
  CHECK_THROWS_WITH(generate_trace(w, 0, 8, "dense"), "workload tiny: batch must be in 1..2147483647 (got 0)");
  CHECK_THROWS_WITH(generate_trace(w, 1, std::nullopt, "dense"),
                    Catch::Contains("workload tiny needs a sequence length"));
  CHECK_THROWS_WITH(generate_trace(w, 1, 0, "dense"), Catch::Contains("seq must be in 1.."));
  CHECK_THROWS_WITH(generate_trace(w, 1, 65, "dense"),
                    "workload tiny: seq 65 is longer than the model's 64 positions (max_seq)");
  CHECK_NOTHROW(generate_trace(w, 1, 64, "dense"));

  const Workload c = parse(cnn("  - {name: fc, m: batch, n: 10, k: image, weights: B}\n"));
  CHECK_FALSE(c.takes_seq());
  CHECK_THROWS_WITH(generate_trace(c, 1, 128, "dense"), Catch::StartsWith("workload cnn takes no seq"));
  CHECK(generate_trace(c, 5, std::nullopt, "dense").ops[0].m == 5);
}

TEST_CASE("convolutions become implicit GEMMs", "[workload][conv]") {
  const Workload w = parse(cnn(
      "  - {name: conv1, conv: {in: 3, out: 64, kernel: 7, stride: 2, pad: 3, h: image, w: image}}\n"
      "  - {name: c2, conv: {in: 64, out: 64, kernel: 3, pad: 1, h: 16, w: 8}, count: 3}\n"
      // AlexNet-2012 style grouped conv and a depthwise conv: count = groups GEMMs of one group each.
      "  - {name: grouped, conv: {in: 96, out: 256, kernel: 5, pad: 2, h: 27, w: 27, groups: 2}}\n"
      "  - {name: dw, conv: {in: 32, out: 32, kernel: 3, stride: 2, pad: 1, h: 16, w: 16, groups: 32}, count: 2}\n"));
  const Trace t = generate_trace(w, 4, std::nullopt, "2:4");
  REQUIRE(t.ops.size() == 4);
  // (32 + 6 - 7) / 2 + 1 = 16.
  CHECK((t.ops[0].m == 4 * 16 * 16 && t.ops[0].n == 64 && t.ops[0].k == 3 * 7 * 7 && t.ops[0].count == 1));
  CHECK((t.ops[1].m == 4 * 16 * 8 && t.ops[1].n == 64 && t.ops[1].k == 64 * 9 && t.ops[1].count == 3));
  CHECK((t.ops[2].m == 4 * 27 * 27 && t.ops[2].n == 128 && t.ops[2].k == 48 * 25 && t.ops[2].count == 2));
  CHECK((t.ops[3].m == 4 * 8 * 8 && t.ops[3].n == 1 && t.ops[3].k == 9 && t.ops[3].count == 64));
  for (const auto& g : t.ops) {
    CHECK(g.sparse == Operand::B);
    CHECK(g.pattern == "2:4");
  }
  // MACs of a conv: batch * OH * OW * out * in/groups * kernel^2 (times count).
  CHECK(t.ops[2].dense_macs() == 4ULL * 27 * 27 * 256 * 48 * 25);
  CHECK(trace_totals(t).weight_elements == 64ULL * 147 + 3 * 64 * 576 + 256 * 48 * 25 + 2 * 32 * 9);
}

TEST_CASE("bad workloads are refused naming file:line and key path", "[workload][errors]") {
  using Catch::Contains;
  // Keys: unknown, missing, wrong choice, duplicated.
  CHECK_THROWS_WITH(parse(transformer("  - {name: a, m: 1, n: 1, k: 1, wieghts: B}\n")),
                    Contains("w.yaml:12: layers[2].wieghts: unknown key"));
  CHECK_THROWS_WITH(parse(transformer("  - {name: a, m: 1, n: 1, weights: B}\n")),
                    Contains("layers[2].k: missing (required)"));
  CHECK_THROWS_WITH(parse(transformer("  - {name: a, m: 1, n: 1, k: 1, weights: C}\n")),
                    Contains("w.yaml:12: layers[2].weights: must be one of A, B, none (got 'C')"));
  CHECK_THROWS_WITH(parse(transformer("", "bogus: 1\n")), Contains("w.yaml:9: bogus: unknown key"));
  CHECK_THROWS_WITH(parse("name: x\n"), Contains("description: missing (required)"));
  CHECK_THROWS_WITH(
      parse(transformer("  - {name: a, m: 1, n: 1, k: 1, weights: B}\n  - {name: a, m: 2, n: 1, k: 1, weights: B}\n")),
      Contains("w.yaml:13: layers[3].name: 'a' is already the name of layers[2]"));
  CHECK_THROWS_WITH(parse(transformer("  - {name: 'a b', m: 1, n: 1, k: 1, weights: B}\n")),
                    Contains("layers[2].name: 'a b' must use only"));
  CHECK_THROWS_WITH(parse(transformer("", "dtype: fp64\n")), Contains("dtype: must be one of fp16, bf16"));
  CHECK_THROWS_WITH(parse("name: x\ndescription: d\nsource: s\ndefaults: {batch: 1}\nlayers: []\n"),
                    Contains("w.yaml:5: layers: must list at least one layer"));
  // Expressions: unknown variable, seq where the workload takes none, inexact division, bad syntax.
  CHECK_THROWS_WITH(parse(transformer("  - {name: a, m: batch*sq, n: 1, k: 1, weights: B}\n")),
                    Contains("w.yaml:12: layers[2].m: expression 'batch*sq': unknown variable 'sq' (known: batch, "
                             "head_dim, heads, hidden, seq)"));
  CHECK_THROWS_WITH(parse(cnn("  - {name: a, m: batch*seq, n: 1, k: 1, weights: B}\n")),
                    Contains("w.yaml:8: layers[0].m: expression 'batch*seq': unknown variable 'seq': this workload "
                             "takes no sequence length"));
  CHECK_THROWS_WITH(parse(transformer("  - {name: a, m: 1, n: hidden/3, k: 1, weights: B}\n")),
                    Contains("w.yaml:12: layers[2].n: expression 'hidden/3': 64 / 3 does not divide exactly"));
  CHECK_THROWS_WITH(parse(transformer("  - {name: a, m: 1, n: (1, k: 1, weights: B}\n")),
                    Contains("layers[2].n: expression '(1': expected ')'"));
  // A comma inside a flow mapping ends the value: YAML reads `{k: ceil_div(a, b)}` as two keys.
  CHECK_THROWS_WITH(parse(transformer("  - {name: a, m: 1, n: 1, k: ceil_div(hidden, 3), weights: B}\n")),
                    Contains("layers[2]"));
  CHECK_NOTHROW(parse(transformer("  - {name: a, m: 1, n: 1, k: 'ceil_div(hidden, 3)', weights: B}\n")));
  // Parameters: bad names, reserved names, later params, unused params.
  CHECK_THROWS_WITH(parse("name: x\ndescription: d\nsource: s\nparams:\n  hidden: 768\n  head_dim: hidden / 5\n"
                          "defaults: {batch: 1}\nlayers:\n  - {name: a, m: head_dim, n: 1, k: 1, weights: B}\n"),
                    Contains("w.yaml:6: params.head_dim: expression 'hidden / 5': 768 / 5 does not divide exactly"));
  CHECK_THROWS_WITH(parse("name: x\ndescription: d\nsource: s\nparams:\n  a: b\n  b: 2\n"
                          "defaults: {batch: 1}\nlayers:\n  - {name: a, m: a, n: b, k: 1, weights: B}\n"),
                    Contains("params.a: expression 'b': unknown variable 'b' (known: none)"));
  CHECK_THROWS_WITH(parse("name: x\ndescription: d\nsource: s\nparams:\n  batch: 2\n"
                          "defaults: {batch: 1}\nlayers:\n  - {name: a, m: 1, n: 1, k: 1, weights: B}\n"),
                    Contains("params.batch: 'batch' is set on the command line"));
  CHECK_THROWS_WITH(parse("name: x\ndescription: d\nsource: s\nparams:\n  t: batch*2\n"
                          "defaults: {batch: 1}\nlayers:\n  - {name: a, m: t, n: 1, k: 1, weights: B}\n"),
                    Contains("params.t: expression 'batch*2': parameters are model constants"));
  CHECK_THROWS_WITH(parse("name: x\ndescription: d\nsource: s\nparams:\n  hidden: 768\n  vocab: 30522\n"
                          "defaults: {batch: 1}\nlayers:\n  - {name: a, m: batch, n: hidden, k: hidden, weights: B}\n"),
                    Contains("w.yaml:6: params.vocab: is not used by any layer or parameter"));
  // Defaults and limits.
  CHECK_THROWS_WITH(parse(cnn("  - {name: a, m: 1, n: 1, k: 1, weights: B}\n") + "max_seq: 4\n"),
                    Contains("max_seq: only a workload that takes"));
  CHECK_THROWS_WITH(parse(transformer("", "max_seq: 4\n")), Contains("max_seq: is 4, shorter than defaults.seq (8)"));
  CHECK_THROWS_WITH(parse("name: x\ndescription: d\nsource: s\ndefaults: {batch: 0}\nlayers:\n  - {name: a, m: 1, n: "
                          "1, k: 1, weights: B}\n"),
                    Contains("w.yaml:4: defaults.batch: must be >= 1 (got 0)"));
  // Shapes that only fail once evaluated: at load (defaults) or for a chosen batch and seq.
  CHECK_THROWS_WITH(parse(transformer("  - {name: a, m: seq - 8, n: 1, k: 1, weights: B}\n")),
                    Contains("w.yaml:12: layers[2].m: 'seq - 8' = 0: must be in 1..2147483647 (at batch 2, seq 8)"));
  const Workload w = parse(transformer("  - {name: a, m: seq / 8, n: 1, k: 1, weights: B}\n"));
  CHECK_THROWS_WITH(generate_trace(w, 1, 12, "dense"),
                    Contains("w.yaml:12: layers[2].m: expression 'seq / 8': 12 / 8 does not divide exactly (write "
                             "ceil_div or floor_div to round) (at batch 1, seq 12)"));
  CHECK_THROWS_WITH(generate_trace(w, 1, 1LL << 40, "dense"), Contains("seq must be in 1..2147483647"));
  CHECK_THROWS_WITH(parse(transformer("  - {name: a, m: 65536*65536, n: 1, k: 1, weights: B}\n")),
                    Contains("layers[2].m: '65536*65536' = 4294967296: must be in 1.."));
  CHECK_THROWS_WITH(
      parse(transformer("  - {name: a, m: 2000000000, n: 2000000000, k: 2000000000, count: 2000000000, weights: B}\n")),
      Contains(
          "w.yaml:12: layers[2]: GEMM tiny.a: m,n,k,count: 2000000000x2000000000x2000000000 x2000000000 overflows"));
}

TEST_CASE("bad convolutions are refused naming the key", "[workload][conv][errors]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(parse(cnn("  - {name: c, conv: {in: 3, out: 8, kernel: 3, h: image, w: image}, m: 1}\n")),
                    Contains("w.yaml:8: layers[0].m: a conv layer takes no m, n, k or weights"));
  CHECK_THROWS_WITH(parse(cnn("  - {name: c, conv: {in: 3, out: 8, kernel: 3, h: image}}\n")),
                    Contains("layers[0].conv.w: missing (required)"));
  CHECK_THROWS_WITH(parse(cnn("  - {name: c, conv: {in: 3, out: 8, kernel: 3, h: image, w: image, dilation: 2}}\n")),
                    Contains("layers[0].conv.dilation: unknown key"));
  CHECK_THROWS_WITH(
      parse(cnn("  - {name: c, conv: {in: 6, out: 8, kernel: 3, h: image, w: image, groups: 4}}\n")),
      Contains("w.yaml:8: layers[0].conv.groups: groups = 4 must divide both in (6) and out (8) (at batch 4)"));
  CHECK_THROWS_WITH(parse(cnn("  - {name: c, conv: {in: 3, out: 8, kernel: 64, h: image, w: image}}\n")),
                    Contains("w.yaml:8: layers[0].conv: output size: conv_out(32, 64, 1, 0): the kernel is larger than "
                             "the padded input (32)"));
  CHECK_THROWS_WITH(parse(cnn("  - {name: c, conv: {in: 3, out: 8, kernel: 3, stride: 0, h: image, w: image}}\n")),
                    Contains("layers[0].conv.stride: '0' = 0: must be in 1.."));
  CHECK_THROWS_WITH(parse(cnn("  - {name: c, conv: {in: 3, out: 8, kernel: 3, pad: -1, h: image, w: image}}\n")),
                    Contains("layers[0].conv.pad: '-1' = -1: must be in 0.."));
  CHECK_THROWS_WITH(parse(cnn("  - {name: c, conv: {in: 3, out: 8, kernel: 1, h: image*3125, w: image*3125}}\n")),
                    Contains("layers[0]: M = batch*OH*OW = 400000 x 100000 is larger than 2147483647"));
}

TEST_CASE("workloads load from files, with --set overrides named in errors", "[workload]") {
  const auto dir = std::filesystem::temp_directory_path() / "stcsim_workload_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "c.yaml").string();
  std::ofstream(path) << cnn("  - {name: c, conv: {in: 3, out: 8, kernel: 3, h: image, w: image}}\n");
  const Workload w = load_workload(path);
  CHECK(w.path == path);
  CHECK(generate_trace(w, 1, std::nullopt, "dense").ops[0].m == 30 * 30);
  const Workload big = load_workload(path, {"params.image=66"});
  CHECK(generate_trace(big, 1, std::nullopt, "dense").ops[0].m == 64 * 64);
  CHECK_THROWS_WITH(load_workload(path, {"params.image=2"}),
                    Catch::Contains("c.yaml:8: layers[0].conv: output size: conv_out(2, 3, 1, 0)"));
  CHECK_THROWS_WITH(load_workload(path, {"params.image=x y"}),
                    Catch::Contains("--set params.image=x y: params.image: expression 'x y'"));
  CHECK_THROWS_WITH(load_workload(path, {"params.extra=1"}),
                    Catch::Contains("--set params.extra=1: params.extra: is not used"));
  CHECK_THROWS_WITH(load_workload((dir / "missing.yaml").string()), Catch::Contains("missing.yaml: cannot open"));
}

TEST_CASE("trace names, commands and comments are canonical", "[workload]") {
  const Workload w = parse(transformer());
  CHECK(trace_file_name(w, 32, 128, "dense", DType::fp16) == "tiny_b32_s128.trace");
  CHECK(trace_file_name(w, 32, 128, "2:4", DType::fp16) == "tiny_b32_s128_2-4.trace");
  CHECK(trace_file_name(w, 1, 8, "1:8", DType::bf16) == "tiny_b1_s8_1-8_bf16.trace");
  CHECK(trace_command("workloads/tiny.yaml", 32, 128, "2:4", DType::fp16) ==
        "stcsim trace workloads/tiny.yaml --batch 32 --seq 128 --pattern 2:4 --dtype fp16");
  CHECK(trace_command("w.yaml", 1, std::nullopt, "tw(g=128,sparsity=0.75)", DType::bf16, {"params.image=320"}) ==
        "stcsim trace w.yaml --batch 1 --pattern 'tw(g=128,sparsity=0.75)' --dtype bf16 --set params.image=320");
  const Trace t = generate_trace(w, 2, 8, "dense");
  const std::string comment = trace_comment(w, t, "CMD");
  CHECK_THAT(comment, Catch::StartsWith("generated by: CMD\nworkload: tiny: test\nsource: none\ntotals: 2 GEMM lines"));
}
