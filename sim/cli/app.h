// The command-line front end: subcommands, and the one place where errors become exit codes.
#pragma once

#include <string>
#include <vector>

namespace stcsim::cli {

// Exit codes: 0 success, 1 bad input or failed check, 2 bad usage.
int main(int argc, char** argv);

int cmd_trace(const std::vector<std::string>& args);
int cmd_prune(const std::vector<std::string>& args);
int cmd_validate(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_sweep(const std::vector<std::string>& args);

}  // namespace stcsim::cli
