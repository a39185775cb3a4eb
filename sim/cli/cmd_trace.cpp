#include "cli/app.h"
#include "cli/usage.h"

namespace stcsim::cli {

int cmd_trace(const std::vector<std::string>& args) {
  (void)args;
  throw UsageError("not written yet");
}

}  // namespace stcsim::cli
