#include <catch2/catch.hpp>

#include "common/strings.h"
#include "report/results.h"

using namespace stcsim;

TEST_CASE("results.csv has the agreed columns first and one line per row", "[report][results]") {
  LayerResult r;
  r.layer = "bert.qkv";
  r.m = 4096;
  r.n = 2304;
  r.k = 768;
  r.pattern = "tw(g=128,sparsity=0.5)";
  r.count = 12;
  r.cycles = 1000;
  r.time_s = 0.5;
  r.energy.dram = 0.25;
  const std::string csv = results_csv({r, r});
  const auto lines = split(csv, '\n');
  REQUIRE(lines.size() == 4);  // header, two rows, and the empty string after the last newline
  CHECK(lines[0].substr(0, 84) == "run,layer,m,n,k,dtype,pattern,count,math_path,cycles,time_s,clock_mhz,power_w,tflops");
  CHECK(std::string(lines[0]).find(",energy_j,energy_macs_j,") != std::string::npos);
  CHECK(std::string(lines[1]).rfind(",bert.qkv,4096,2304,768,fp16,\"tw(g=128,sparsity=0.5)\",12,,1000,0.5,", 0) == 0);
}
