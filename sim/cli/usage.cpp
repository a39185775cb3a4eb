#include "cli/usage.h"

#include <iostream>

namespace stcsim::cli {

bool parse_args(const std::vector<std::string>& args, const po::options_description& opts,
                const po::positional_options_description& positional, po::variables_map& vm, const char* usage,
                const char* examples) {
  po::options_description all;
  all.add(opts);
  all.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << all << "\nExamples:\n" << examples;
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace stcsim::cli
