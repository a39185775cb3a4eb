#include <catch2/catch.hpp>

#include "common/error.h"
#include "memory/request_window.h"

using namespace stcsim;

TEST_CASE("request window: a load waits exactly until enough earlier loads have arrived", "[memory][window]") {
  RequestWindow w(1000);
  CHECK(w.admit_at(0, 600) == 0);
  w.issue(0, 600, 100, 0);
  CHECK(w.admit_at(0, 400) == 0);  // exactly fills the window
  w.issue(0, 400, 50, 0);
  CHECK(w.outstanding(0) == 1000);
  // Full: 1 byte more fits once the 400-byte load arrives at 50, 500 bytes once both have (100).
  CHECK(w.admit_at(0, 1) == 50);
  CHECK(w.admit_at(10, 401) == 100);
  CHECK(w.outstanding(50) == 600);  // a load is outstanding up to its arrival cycle, not at it
  CHECK(w.outstanding(49) == 1000);
  // A load at a cycle the window does not admit is a model error, not a silent overrun.
  CHECK_THROWS_AS(w.issue(10, 1, 20, 10), Error);
  w.issue(50, 400, 300, 20);  // wanted at 20, issued at 50: throttled 30 cycles
  CHECK(w.stats().requests == 3);
  CHECK(w.stats().bytes == 1400);
  CHECK(w.stats().throttled_requests == 1);
  CHECK(w.stats().throttle_cycles == 30);
  CHECK(w.stats().peak_bytes == 1000);
}

TEST_CASE("request window: a load larger than the window issues alone, and a limit of 0 is none", "[memory][window]") {
  RequestWindow w(100);
  CHECK(w.admit_at(5, 500) == 5);  // nothing in flight: admitted whole
  w.issue(5, 500, 80, 5);
  CHECK(w.admit_at(6, 1) == 80);
  CHECK(w.admit_at(80, 500) == 80);
  RequestWindow open(0);
  for (int i = 0; i < 10; ++i) {
    CHECK(open.admit_at(0, 1 << 20) == 0);
    open.issue(0, 1 << 20, 1000, 0);
  }
  CHECK(open.stats().throttled_requests == 0);
  CHECK(open.stats().peak_bytes == 10u << 20);
  CHECK_THROWS_AS(RequestWindow(-1), Error);
  CHECK_THROWS_AS(w.admit_at(-1, 1), Error);
  CHECK_THROWS_AS(w.issue(90, 1, 10, 90), Error);  // arrives before it issues
}
