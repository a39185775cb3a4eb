#include "gpu/sanitizer_stack.h"

#if defined(__SANITIZE_ADDRESS__)
#define STCSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STCSIM_ASAN 1
#endif
#endif

#ifdef STCSIM_ASAN
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>

#include <cstddef>
#endif

namespace stcsim {

void sanitizer_back_on_thread_stack() {
#ifdef STCSIM_ASAN
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* bottom = nullptr;
  std::size_t size = 0;
  if (pthread_attr_getstack(&attr, &bottom, &size) == 0) {
    // A "switch" to the stack we are on: the fake stack (use-after-return frames) is kept as it is.
    void* fake_stack = nullptr;
    __sanitizer_start_switch_fiber(&fake_stack, bottom, size);
    __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
  }
  pthread_attr_destroy(&attr);
#endif
}

}  // namespace stcsim
