// Shared option handling for the subcommands.
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace stcsim::cli {

namespace po = boost::program_options;

// Bad command-line usage (exit code 2), as opposed to bad input files (exit code 1).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses args against `opts` (and positional names); returns false and prints help if --help was given.
bool parse_args(const std::vector<std::string>& args, const po::options_description& opts,
                const po::positional_options_description& positional, po::variables_map& vm, const char* usage,
                const char* examples);

// Runs subcommand `cmd` of program `prog`, the one place where errors become exit codes and one line
// on stderr: bad usage 2 ("prog cmd: reason (see prog cmd --help)"), bad input or a failed check
// (stcsim::Error) 1, out of memory 1, anything else 3 (an internal error).
int run_guarded(const std::string& prog, const std::string& cmd, const std::function<int()>& body);

}  // namespace stcsim::cli
