#include <catch2/catch.hpp>

#include "operand_selector/operand_selector.h"
#include "sparsity/registry.h"
#include "weights/generator.h"

using namespace stcsim;

namespace {

OperandSelectorConfig h100_like() {
  OperandSelectorConfig c;
  c.max_m = 4;
  c.latency_cycles = 0;
  c.selections_per_clock = 1024;
  return c;
}

NmCompressed compress(const Matrix& w, const std::string& spec) {
  const auto p = builtin_registry().make(spec);
  const auto c = p->compress(w, p->build_mask(w));
  return dynamic_cast<const NmCompressed&>(*c);
}

}  // namespace

TEST_CASE("the selector supports N:M up to its width", "[operand_selector]") {
  const OperandSelector sel(h100_like());
  CHECK(sel.present());
  CHECK(sel.max_m() == 4);
  CHECK(sel.supports(2, 4));
  CHECK(sel.supports(1, 4));
  CHECK(sel.supports(1, 2));
  CHECK(sel.supports(3, 4));
  CHECK_FALSE(sel.supports(2, 8));
  CHECK_FALSE(sel.supports(4, 4));
  CHECK_FALSE(sel.supports(0, 4));
  CHECK_NOTHROW(sel.check(2, 4));
  CHECK_THROWS_AS(sel.check(2, 8), UnsupportedError);
  CHECK_THROWS_WITH(sel.check(2, 8), Catch::Contains("operand_selector.max_m"));

  OperandSelectorConfig wide = h100_like();
  wide.max_m = 16;
  CHECK(OperandSelector(wide).supports(2, 8));
  CHECK(OperandSelector(wide).supports(5, 16));
}

TEST_CASE("dense-only hardware has no selector", "[operand_selector]") {
  const OperandSelector sel(std::nullopt);
  CHECK_FALSE(sel.present());
  CHECK_FALSE(sel.supports(2, 4));
  CHECK(sel.latency_cycles() == 0);
  CHECK_THROWS_WITH(sel.check(2, 4), Catch::Contains("no operand selector"));
  CHECK_THROWS_AS(sel.cycles_for(16), UnsupportedError);
}

TEST_CASE("selection cycles are ceil(selections / rate x units), latency from config", "[operand_selector]") {
  OperandSelectorConfig c = h100_like();
  c.latency_cycles = 3;
  const OperandSelector sel(c);
  CHECK(sel.latency_cycles() == 3);
  CHECK(sel.cycles_for(0) == 0);
  CHECK(sel.cycles_for(1) == 1);
  CHECK(sel.cycles_for(1024) == 1);
  CHECK(sel.cycles_for(1025) == 2);
  CHECK(sel.cycles_for(2048) == 2);
  CHECK(sel.cycles_for(4096, 4) == 1);
  CHECK(sel.cycles_for(4097, 4) == 2);
}

TEST_CASE("2:4 metadata routes the matching dense elements", "[operand_selector]") {
  // Group 0 keeps positions 1 and 3, group 1 keeps 0 and 2 (as in the N:M layout test).
  Matrix w(1, 8);
  const float vals[8] = {0.1f, 5.0f, 0.2f, -6.0f, 7.0f, 0.0f, -8.0f, 0.3f};
  for (int i = 0; i < 8; ++i) w.at(0, i) = vals[i];
  const NmCompressed s = compress(w, "2:4");
  OperandSelector sel(h100_like());

  const float dense0[4] = {10, 20, 30, 40};
  float out[2] = {0, 0};
  sel.select(s, 0, 0, dense0, out);
  CHECK(out[0] == 20.0f);
  CHECK(out[1] == 40.0f);
  CHECK(sel.stats().selections == 2u);
  CHECK(sel.stats().metadata_bits == 4u);

  // A column of a row-major K x 3 fragment: elements 3 apart.
  const float strided[12] = {1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0};
  sel.select(s, 0, 1, strided, out, 3);
  CHECK(out[0] == 1.0f);
  CHECK(out[1] == 3.0f);

  // Decoded once, routed for several columns: metadata counted once, selections per column.
  int pos[2];
  sel.decode(s, 0, 1, pos);
  CHECK(pos[0] == 0);
  CHECK(pos[1] == 2);
  sel.route(pos, 2, dense0, 1, out);
  sel.route(pos, 2, dense0 + 1, 1, out);
  CHECK(sel.stats().selections == 8u);
  CHECK(sel.stats().metadata_bits == 12u);

  CHECK_THROWS_AS(sel.decode(s, 1, 0, pos), ShapeError);
  CHECK_THROWS_AS(sel.decode(s, 0, 2, pos), ShapeError);
}

TEST_CASE("generic N:M: decoded positions are the mask's kept positions", "[operand_selector]") {
  OperandSelectorConfig c = h100_like();
  c.max_m = 16;
  OperandSelector sel(c);
  for (const char* spec : {"1:4", "3:8", "2:8", "5:16", "1:2"}) {
    const Matrix w = generate_weights(4, 48, 11);
    const auto p = builtin_registry().make(spec);
    const Mask mask = p->build_mask(w);
    const auto packed = p->compress(w, mask);
    const auto& s = dynamic_cast<const NmCompressed&>(*packed);
    std::vector<float> dense(static_cast<std::size_t>(s.m()));
    for (int j = 0; j < s.m(); ++j) dense[static_cast<std::size_t>(j)] = static_cast<float>(100 + j);
    std::vector<float> out(static_cast<std::size_t>(s.n()));
    for (std::int64_t r = 0; r < w.rows(); ++r) {
      for (std::int64_t g = 0; g < s.groups_per_row(); ++g) {
        sel.select(s, r, g, dense.data(), out.data());
        int slot = 0;
        for (int j = 0; j < s.m(); ++j) {
          if (mask.at(r, g * s.m() + j)) {
            CHECK(out[static_cast<std::size_t>(slot)] == static_cast<float>(100 + j));
            ++slot;
          }
        }
        CHECK(slot == s.n());  // every group of these shapes keeps exactly N
      }
    }
  }
}

TEST_CASE("timed work is accounted without values", "[operand_selector]") {
  OperandSelector sel(h100_like());
  sel.account(2048, 512);
  sel.account(2048, 512);
  CHECK(sel.stats().selections == 4096u);
  CHECK(sel.stats().metadata_bits == 1024u);
  std::vector<std::string> names;
  sel.stats().visit([&](const char* n, std::uint64_t&) { names.emplace_back(n); });
  CHECK(names == std::vector<std::string>{"selections", "metadata_bits"});
}
