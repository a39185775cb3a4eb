// libsystemc's shared library refers to sc_main (its own main() would call it). Our programs have
// main() of their own and elaborate the model themselves, so this entry point is never reached; it
// exists only so that the library links, and says so if it ever is called. Exported even where the
// rest is hidden (the Python module is built with -fvisibility=hidden), since libsystemc looks it up.
#include <cstdio>

extern "C" __attribute__((visibility("default"))) int sc_main(int, char**) {
  std::fputs("stcsim: sc_main is not an entry point of this program\n", stderr);
  return 3;
}
