// kiln_status and the dtype helpers of the C API.
#include "runtime/api/api_internal.h"

namespace kiln::api {

namespace {
// Returned when even the status cannot be allocated; kiln_status_destroy leaves it alone.
kiln_status g_out_of_memory{KILN_STATUS_OUT_OF_MEMORY, "out of memory"};
}  // namespace

kiln_status* make_status(kiln_status_code code, const std::string& message) noexcept {
  try {
    return new kiln_status{code, message};
  } catch (...) {
    return &g_out_of_memory;
  }
}

bool is_static_status(const kiln_status* s) { return s == &g_out_of_memory; }

}  // namespace kiln::api

extern "C" {

kiln_status_code kiln_status_get_code(const kiln_status* status) {
  return status ? status->code : KILN_STATUS_OK;
}

const char* kiln_status_message(const kiln_status* status) {
  return status ? status->message.c_str() : "ok";
}

void kiln_status_destroy(kiln_status* status) {
  if (status && !kiln::api::is_static_status(status)) delete status;
}

const char* kiln_status_code_name(kiln_status_code code) {
  switch (code) {
    case KILN_STATUS_OK:
      return "ok";
    case KILN_STATUS_INVALID_ARGUMENT:
      return "invalid argument";
    case KILN_STATUS_NOT_FOUND:
      return "not found";
    case KILN_STATUS_INVALID_ARTIFACT:
      return "invalid artifact";
    case KILN_STATUS_UNSUPPORTED:
      return "unsupported";
    case KILN_STATUS_FAILED_PRECONDITION:
      return "failed precondition";
    case KILN_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case KILN_STATUS_INTERNAL:
      return "internal error";
  }
  return "unknown status";
}

size_t kiln_dtype_size(kiln_dtype dtype) {
  const auto code = static_cast<int32_t>(dtype);
  return kiln::dtype_is_valid(code) ? kiln::dtype_size(static_cast<kiln::DType>(code)) : 0;
}

const char* kiln_dtype_name(kiln_dtype dtype) {
  const auto code = static_cast<int32_t>(dtype);
  if (!kiln::dtype_is_valid(code) || kiln_dtype_size(dtype) == 0) return "?";
  return kiln::dtype_name(static_cast<kiln::DType>(code)).data();
}

}  // extern "C"
