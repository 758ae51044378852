#include "common/thread_name.h"

#include <pthread.h>

namespace ctxd {

void NameThread(std::thread& thread, const char* name) { pthread_setname_np(thread.native_handle(), name); }

}  // namespace ctxd
