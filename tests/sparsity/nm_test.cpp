#include <catch2/catch.hpp>

#include "common/checked.h"
#include "sparsity/nm_layout.h"
#include "sparsity/registry.h"
#include "sparsity/stats.h"
#include "weights/generator.h"

using namespace stcsim;

TEST_CASE("N:M specs are checked", "[sparsity][nm]") {
  const auto& reg = builtin_registry();
  CHECK(reg.make("2:4")->spec() == "2:4");
  CHECK(reg.make(" 1:16 ")->spec() == "1:16");
  CHECK_THROWS_WITH(reg.make("4:2"), Catch::Contains("N must be in 1..M-1"));
  CHECK_THROWS_WITH(reg.make("0:4"), Catch::Contains("N must be in 1..M-1"));
  CHECK_THROWS_WITH(reg.make("2:4:8:1"), Catch::Contains("expected N:M or V:N:M"));
  CHECK_THROWS_WITH(reg.make("2:17"), Catch::Contains("M must be in 2..16"));
  CHECK_THROWS_WITH(reg.make("a:4"), Catch::Contains("not an integer"));
  CHECK_THROWS_AS(reg.make("2:"), SpecError);
  CHECK_THROWS_WITH(reg.make("nope"), Catch::Contains("known: dense, N:M"));
  // Found by fuzzing: the families' names with named parameters, and an N whose double overflows,
  // ended in an internal error or undefined behaviour instead of a spec error.
  CHECK_THROWS_WITH(reg.make("nm(n=2,m=4)"), Catch::Contains("write N:M"));
  CHECK_THROWS_WITH(reg.make("vnm(sparsity=0.25,n=2,m=4)"), Catch::Contains("write V:N:M"));
  CHECK_THROWS_WITH(reg.make("2:6000000000000000002:4"), Catch::Contains("N must be in 1..M/2"));
}

TEST_CASE("2:4 metadata is packed as the sparse MMA instruction reads it", "[sparsity][nm]") {
  // One row of 8 weights: group 0 keeps positions 1 and 3, group 1 keeps 0 and 2.
  Matrix w(1, 8);
  const float vals[8] = {0.1f, 5.0f, 0.2f, -6.0f, 7.0f, 0.0f, -8.0f, 0.3f};
  for (int i = 0; i < 8; ++i) w.at(0, i) = vals[i];
  const auto p = builtin_registry().make("2:4");
  const Mask mask = p->build_mask(w);
  const auto c = p->compress(w, mask);
  const auto& nm = dynamic_cast<const NmCompressed&>(*c);
  REQUIRE(nm.words_per_row() == 1);
  // group 0: idx0 = 1, idx1 = 3 -> nibble 0b1101; group 1: idx0 = 0, idx1 = 2 -> nibble 0b1000.
  CHECK(nm.metadata()[0] == 0x8Du);
  CHECK(nm.values() == std::vector<float>{5.0f, -6.0f, 7.0f, -8.0f});
}

TEST_CASE("groups keeping fewer than N are padded with zeros at unused positions, indices increasing", "[sparsity][nm]") {
  Matrix w(1, 4);
  w.at(0, 2) = 3.0f;
  Mask mask(1, 4, 0);
  mask.at(0, 2) = 1;
  const auto p = builtin_registry().make("2:4");
  const auto c = p->compress(w, mask);
  const auto& nm = dynamic_cast<const NmCompressed&>(*c);
  CHECK(nm.index(0, 0) == 0);
  CHECK(nm.index(0, 1) == 2);
  CHECK(nm.values() == std::vector<float>{0.0f, 3.0f});
  CHECK(p->decompress(*c) == w);
}

TEST_CASE("N:M metadata size matches its formula", "[sparsity][nm]") {
  const auto& reg = builtin_registry();
  for (const char* spec : {"2:4", "1:4", "2:8", "4:8", "1:2", "3:16", "5:7"}) {
    for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{64, 4096}, {3, 100}, {17, 7}}) {
      const auto p = reg.make(spec);
      const Matrix w = generate_weights(rows, cols, 3);
      const auto c = p->compress(w, p->build_mask(w));
      const std::int64_t groups = ceil_div(cols, p->m());
      const std::int64_t bits = groups * p->n() * index_bits(p->m());
      INFO(spec << " " << rows << "x" << cols);
      CHECK(c->metadata_bytes() == static_cast<std::uint64_t>(rows * ceil_div(bits, 32) * 4));
      CHECK(c->stored_values() == rows * groups * p->n());
    }
  }
}

TEST_CASE("2:4 on fp16 costs 2 index bits per kept value and 56.25% of dense bytes", "[sparsity][nm]") {
  const auto p = builtin_registry().make("2:4");
  const Matrix w = generate_weights(128, 4096, 8);
  const Mask mask = p->build_mask(w);
  const auto st = measure(*p, w, mask, *p->compress(w, mask), DType::fp16);
  CHECK(st.density == 0.5);
  CHECK(st.index_bits_per_value == 2);
  CHECK(st.metadata_bits_per_kept == 2.0);
  CHECK(st.compression_ratio == Approx(0.5625));
}

TEST_CASE("an N:M mask keeping too many in a group is refused, naming where", "[sparsity][nm]") {
  Mask mask(2, 8, 0);
  mask.at(1, 4) = mask.at(1, 5) = mask.at(1, 6) = 1;
  CHECK_THROWS_WITH(builtin_registry().make("2:4")->check_mask(mask), Catch::Contains("row 1, columns 4..7 keep 3"));
}
