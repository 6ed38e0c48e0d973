// kiln_context: the CPU and the thread pool kernels run on.
#include "runtime/api/api_internal.h"

using kiln::api::fail_with;

extern "C" {

kiln_status* kiln_context_create(const kiln_context_options* options, kiln_context** out) {
  return kiln::api::guard(KILN_STATUS_INVALID_ARGUMENT, [&] {
    KILN_API_REQUIRE(out);
    *out = nullptr;
    const int32_t threads = options ? options->num_threads : 0;
    if (threads < 0 || threads > 4096) {
      fail_with(KILN_STATUS_INVALID_ARGUMENT, "kiln_context_create: num_threads ", threads,
                " is out of range (0 = all hardware threads, or 1..4096)");
    }
    auto ctx = std::make_shared<kiln::api::Context>();
    ctx->pool = std::make_unique<kiln::ThreadPool>(threads);
    *out = new kiln_context{std::move(ctx)};
  });
}

void kiln_context_destroy(kiln_context* context) { delete context; }

int32_t kiln_context_num_threads(const kiln_context* context) {
  return context ? context->impl->pool->num_threads() : 0;
}

}  // extern "C"
