#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "common/error.h"
#include "memory/bandwidth_server.h"

using namespace stcsim;

TEST_CASE("bandwidth server: a request completes exactly at transfer plus latency", "[memory][bandwidth]") {
  BandwidthServer s(100.0, 10);
  // 1000 bytes at 100 B/clk: the last byte is across at cycle 10 and arrives at 20, not 19.
  CHECK(s.serve(0, 1000) == 20);
  CHECK(s.free_at() == 10);
  // Queued behind it: starts at 10, 10.01 cycles of transfer, rounded up only at the end.
  CHECK(s.serve(0, 1001) == 31);
  CHECK(s.free_at() == 21);
  // An idle link: starts at now.
  CHECK(s.serve(100, 50) == 111);
  CHECK(s.serve(200, 0) == 210);
  CHECK(s.stats().requests == 4);
  CHECK(s.stats().bytes == 2051);
  CHECK(s.stats().busy_cycles == 20);   // 10 + 10.01 + 0.5 = 20.51
  CHECK(s.stats().queue_cycles == 10);  // the second request waited 10 cycles
}

TEST_CASE("bandwidth server: a request waits for the fractional end of the one before", "[memory][bandwidth]") {
  BandwidthServer s(ByteRate::exact(3, 1), 0);
  CHECK(s.serve(0, 1) == 1);  // busy until 1/3
  CHECK(s.serve(0, 1) == 1);  // until 2/3
  CHECK(s.serve(0, 1) == 1);  // until 1
  CHECK(s.serve(0, 1) == 2);
  CHECK(s.serve(1, 2) == 2);           // from 4/3 to 2
  CHECK(s.serve(2, 3) == 3);           // link idle at 2 exactly: starts at 2
  CHECK(s.stats().queue_cycles == 2);  // 1/3 + 2/3 + 1 + 1/3 = 7/3
}

TEST_CASE("bandwidth server: a stream saturates exactly the configured bandwidth", "[memory][bandwidth]") {
  // H100: 3350 GB/s x 0.92 at 1830 MHz = 1684.15... B/clk, as the exact ratio in kB/s over kHz.
  const ByteRate rate = ByteRate::exact(3350ull * 920000ull, 1830000);
  const std::int64_t latency = 600;
  BandwidthServer s(rate, latency);
  const std::int64_t mib = 1 << 20;
  std::int64_t last = 0;
  for (int i = 1; i <= 1000; ++i) {
    const std::int64_t done = s.serve(0, mib);
    CHECK(done >= last);
    last = done;
    // Every prefix of the stream finishes at exactly ceil(prefix bytes / rate) + latency.
    const std::uint64_t units = static_cast<std::uint64_t>(i) * mib * rate.den;
    const auto expect = static_cast<std::int64_t>((units + rate.num - 1) / rate.num) + latency;
    REQUIRE(done == expect);
  }
  const double ideal = 1000.0 * mib / rate.bytes_per_cycle();
  CHECK(last - latency >= ideal);
  CHECK(last - latency < ideal + 1);
  CHECK(s.stats().busy_cycles == static_cast<std::uint64_t>(std::floor(ideal)));
}

TEST_CASE("bandwidth server: fractional bandwidth does not drift over many small requests", "[memory][bandwidth]") {
  SECTION("2.5 B/clk, 1000 one-byte requests end at 400 cycles, each at ceil(i / 2.5)") {
    BandwidthServer s(2.5, 7);
    std::int64_t done = 0;
    for (int i = 1; i <= 1000; ++i) {
      done = s.serve(0, 1);
      REQUIRE(done == (2 * i + 4) / 5 + 7);
    }
    CHECK(done == 400 + 7);
  }
  SECTION("1/3 B/clk: 1000 requests of 7 bytes end where one of 7000 bytes does") {
    BandwidthServer many(ByteRate::exact(1, 3), 5);
    BandwidthServer one(ByteRate::exact(1, 3), 5);
    std::int64_t done = 0;
    for (int i = 0; i < 1000; ++i) done = many.serve(0, 7);
    CHECK(done == one.serve(0, 7000));
    CHECK(done == 21000 + 5);
  }
  SECTION("A100 DRAM, 1555 GB/s x 0.9 at 1410 MHz, requests spread over time") {
    const ByteRate rate = ByteRate::exact(1399500000, 1410000);  // reduces to 46650/47
    CHECK(rate.num == 46650);
    CHECK(rate.den == 47);
    BandwidthServer s(rate, 0);
    std::int64_t done = 0;
    for (int i = 0; i < 100000; ++i) done = s.serve(i / 1000, 333);  // arrivals faster than the link
    const std::uint64_t units = 100000ull * 333 * 47;
    CHECK(done == static_cast<std::int64_t>((units + 46649) / 46650));
    CHECK(done == 33550);
  }
}

TEST_CASE("bandwidth server: rates from doubles and bad inputs", "[memory][bandwidth]") {
  CHECK(ByteRate::from_double(2.5).num == 5);
  CHECK(ByteRate::from_double(2.5).den == 2);
  CHECK(ByteRate::from_double(3900).den == 1);
  CHECK(ByteRate::from_double(1000.0 / 3).bytes_per_cycle() == Approx(1000.0 / 3).epsilon(1e-9));
  CHECK_THROWS_AS(ByteRate::from_double(0), Error);
  CHECK_THROWS_AS(ByteRate::from_double(-1), Error);
  CHECK_THROWS_AS(ByteRate::from_double(std::nan("")), Error);
  CHECK_THROWS_AS(ByteRate::exact(0, 1), Error);
  CHECK_THROWS_AS(BandwidthServer(1.0, -1), Error);
  BandwidthServer s(1.0, 0);
  CHECK_THROWS_AS(s.serve(0, -1), Error);
  CHECK_THROWS_AS(s.serve(-1, 1), Error);
}
