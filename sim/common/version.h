// What build this is: the version, and the commit the binary was built from (`git describe --always
// --dirty` at build time, "unknown" outside a git checkout), recorded in every output that states
// how it was produced (sweep manifests, replay.yaml).
#pragma once

namespace stcsim {

const char* build_commit();

}  // namespace stcsim
