#include "cli/usage.h"

#include <boost/program_options/errors.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <new>

#include "common/error.h"

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

int run_guarded(const std::string& prog, const std::string& cmd, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s %s: %s (see %s %s --help)\n", prog.c_str(), cmd.c_str(), e.what(), prog.c_str(), cmd.c_str());
    return 2;
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "%s %s: %s (see %s %s --help)\n", prog.c_str(), cmd.c_str(), e.what(), prog.c_str(), cmd.c_str());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", prog.c_str(), e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: out of memory\n", prog.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", prog.c_str(), e.what());
    return 3;
  }
}

}  // namespace stcsim::cli
