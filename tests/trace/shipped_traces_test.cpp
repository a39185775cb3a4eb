// Every shipped trace loads (a new file under traces/ is covered without touching this test).
#include <catch2/catch.hpp>

#include <filesystem>

#include "trace/trace_io.h"

using namespace stcsim;

TEST_CASE("every shipped trace parses and round-trips through the writer", "[trace][shipped]") {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(STCSIM_SOURCE_DIR) + "/traces")) {
    if (entry.path().extension() != ".trace") continue;
    ++files;
    INFO(entry.path().string());
    const Trace t = read_trace(entry.path().string(), builtin_registry());
    CHECK_FALSE(t.ops.empty());
    CHECK(parse_trace(format_trace(t), "rt", builtin_registry()).ops == t.ops);
  }
  CHECK(files >= 1);
}
