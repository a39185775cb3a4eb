#pragma once

namespace stcsim {

// The simulation kernel runs its processes on coroutine stacks and tells AddressSanitizer about each
// switch; on the way back to the thread's own stack at the end of sc_start() the announced bounds are
// the coroutine's, so ASan ignores the unpoisoning that a later throw asks for and reports stale
// poison as a bad access. Call this after sc_start() returns: it announces the thread's own stack
// again. It does nothing in a build without AddressSanitizer.
void sanitizer_back_on_thread_stack();

}  // namespace stcsim
