#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include "report/stats_tree.h"

using namespace stcsim;

namespace {

struct DemoStats {
  std::uint64_t busy = 0;
  double ratio = 0;
  template <class F>
  void visit(F&& f) {
    f("busy", busy);
    f("ratio", ratio);
  }
};

}  // namespace

TEST_CASE("stats accumulate under hierarchical names and nest in YAML", "[report][stats]") {
  StatsTree t;
  DemoStats s{5, 0.25};
  t.add_all("gpu.sm10.tensor_core", s);
  t.add_all("gpu.sm2.tensor_core", s);
  t.add_all("gpu.sm2.tensor_core", s);
  t.add("gpu.cycles", std::uint64_t{100});
  const std::string y = t.to_yaml();
  const YAML::Node n = YAML::Load(y);
  CHECK(n["gpu"]["sm2"]["tensor_core"]["busy"].as<std::uint64_t>() == 10);
  CHECK(n["gpu"]["sm2"]["tensor_core"]["ratio"].as<double>() == 0.5);
  CHECK(n["gpu"]["sm10"]["tensor_core"]["busy"].as<std::uint64_t>() == 5);
  CHECK(n["gpu"]["cycles"].as<std::uint64_t>() == 100);
  // sm2 is written before sm10.
  CHECK(y.find("sm2:") < y.find("sm10:"));
  CHECK_THROWS_AS(t.add("gpu.cycles", 1.0), std::logic_error);
}
