#include "cli/app.h"

int main(int argc, char** argv) { return stcsim::cli::main(argc, argv); }
