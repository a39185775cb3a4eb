// stcsim-gpu: the replay backend's command line. Subcommands replay, selftest and info; errors become
// one line on stderr and an exit code: 0 success, 1 bad input or a failed check, 2 bad usage, 77 no
// GPU (the code test harnesses read as "skipped").
#pragma once

#include <string>
#include <vector>

#include "cuda/host/replay_device.h"

namespace stcsim::replay::cli {

inline constexpr int kExitNoGpu = 77;

int main(int argc, char** argv);
int cmd_replay(const std::vector<std::string>& args);
int cmd_selftest(const std::vector<std::string>& args);
int cmd_info(const std::vector<std::string>& args);

// s as a double-quoted YAML scalar on one line (quotes and backslashes escaped, newlines as spaces).
std::string yaml_quote(const std::string& s);

// The device and build, as YAML lines (for replay.yaml and `info`).
std::string describe_device_yaml(Device& dev);

}  // namespace stcsim::replay::cli
