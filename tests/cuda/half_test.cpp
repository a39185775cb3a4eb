// 16-bit element conversion: every fp16 and bf16 bit pattern survives the trip through fp32 and back,
// rounding is to nearest even, and the edges (overflow, subnormals, NaN) behave as the GPU's do.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/error.h"
#include "cuda/host/half.h"

using namespace stcsim;
using namespace stcsim::replay;

TEST_CASE("every 16-bit value converts to fp32 and back unchanged", "[replay][half]") {
  for (DType t : {DType::fp16, DType::bf16}) {
    for (std::uint32_t b = 0; b < 65536; ++b) {
      const auto bits = static_cast<std::uint16_t>(b);
      const float x = from_half_bits(bits, t);
      if (std::isnan(x)) {
        CHECK(std::isnan(from_half_bits(to_half_bits(x, t), t)));
        continue;
      }
      INFO(dtype_name(t) << " bits 0x" << std::hex << b);
      REQUIRE(to_half_bits(x, t) == bits);
    }
  }
}

TEST_CASE("fp16 conversion: known values, ties to even, overflow and subnormals", "[replay][half]") {
  CHECK(to_half_bits(1.0f, DType::fp16) == 0x3C00);
  CHECK(to_half_bits(-2.0f, DType::fp16) == 0xC000);
  CHECK(to_half_bits(65504.0f, DType::fp16) == 0x7BFF);
  CHECK(to_half_bits(65520.0f, DType::fp16) == 0x7C00);  // halfway to 2^16 rounds up to infinity
  CHECK(to_half_bits(65519.0f, DType::fp16) == 0x7BFF);
  CHECK(to_half_bits(std::ldexp(1.0f, -24), DType::fp16) == 0x0001);  // smallest subnormal
  CHECK(to_half_bits(std::ldexp(1.0f, -25), DType::fp16) == 0x0000);  // tie between 0 and 2^-24: even (0)
  CHECK(to_half_bits(std::ldexp(3.0f, -26), DType::fp16) == 0x0001);
  CHECK(to_half_bits(1.0f + std::ldexp(1.0f, -11), DType::fp16) == 0x3C00);  // tie: to even
  CHECK(to_half_bits(1.0f + std::ldexp(3.0f, -11), DType::fp16) == 0x3C02);  // tie: to even (up)
  CHECK(to_half_bits(-0.0f, DType::fp16) == 0x8000);
  CHECK(std::isnan(from_half_bits(to_half_bits(NAN, DType::fp16), DType::fp16)));
  CHECK(from_half_bits(0x7C00, DType::fp16) == INFINITY);
}

TEST_CASE("bf16 conversion rounds to nearest even", "[replay][half]") {
  CHECK(to_half_bits(1.0f, DType::bf16) == 0x3F80);
  CHECK(to_half_bits(1.0f + std::ldexp(1.0f, -8), DType::bf16) == 0x3F80);  // tie: to even
  CHECK(to_half_bits(1.0f + std::ldexp(3.0f, -8), DType::bf16) == 0x3F82);
  CHECK(to_half_bits(3.0e38f, DType::bf16) == 0x7F62);
  CHECK(std::isnan(from_half_bits(to_half_bits(NAN, DType::bf16), DType::bf16)));
}

TEST_CASE("only 16-bit types convert", "[replay][half]") {
  CHECK_THROWS_AS(to_half_bits(1.0f, DType::tf32), UnsupportedError);
  CHECK_FALSE(is_half_type(DType::int8));
}
