// A thin C++ layer over kiln/kiln.h: RAII handles and exceptions instead of statuses. Header
// only, so it adds nothing to the runtime's ABI; C callers use kiln.h directly.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "kiln/kiln.h"

namespace kiln::rt {

// A failed call: the status's one-line message, and its code.
class StatusError : public std::runtime_error {
 public:
  StatusError(kiln_status_code code, const std::string& msg)
      : std::runtime_error(msg), code(code) {}
  kiln_status_code code;
};

// Throws StatusError for a non-null status (and frees it).
inline void check(kiln_status* status) {
  if (!status) return;
  const kiln_status_code code = kiln_status_get_code(status);
  std::string msg = kiln_status_message(status);
  kiln_status_destroy(status);
  throw StatusError(code, msg);
}

class Context {
 public:
  // device: "cpu", "opencl", or nullptr / "auto" (each artifact runs where it was compiled for).
  explicit Context(int32_t num_threads = 0, const char* device = nullptr) {
    kiln_context_options opts{num_threads};
    kiln_context* c = nullptr;
    check(kiln_context_create_for_device(&opts, device, &c));
    ptr_.reset(c);
  }
  kiln_context* get() const { return ptr_.get(); }

 private:
  std::unique_ptr<kiln_context, decltype(&kiln_context_destroy)> ptr_{nullptr,
                                                                      &kiln_context_destroy};
};

class Model {
 public:
  static Model load_file(const Context& ctx, const std::string& path) {
    kiln_model* m = nullptr;
    check(kiln_model_load_file(ctx.get(), path.c_str(), &m));
    return Model(m);
  }
  static Model load_memory(const Context& ctx, const void* data, size_t size) {
    kiln_model* m = nullptr;
    check(kiln_model_load_memory(ctx.get(), data, size, &m));
    return Model(m);
  }
  kiln_model* get() const { return ptr_.get(); }
  size_t num_inputs() const { return kiln_model_num_inputs(get()); }
  size_t num_outputs() const { return kiln_model_num_outputs(get()); }
  kiln_tensor_info input(size_t i) const {
    kiln_tensor_info info{};
    check(kiln_model_input_info(get(), i, &info));
    return info;
  }
  kiln_tensor_info output(size_t i) const {
    kiln_tensor_info info{};
    check(kiln_model_output_info(get(), i, &info));
    return info;
  }

 private:
  explicit Model(kiln_model* m) : ptr_(m, &kiln_model_destroy) {}
  std::unique_ptr<kiln_model, decltype(&kiln_model_destroy)> ptr_;
};

class Session {
 public:
  explicit Session(const Model& model) {
    kiln_session* s = nullptr;
    check(kiln_session_create(model.get(), &s));
    ptr_.reset(s);
  }
  kiln_session* get() const { return ptr_.get(); }
  void bind_input(size_t index, const void* data, kiln_dtype dtype, int32_t rank,
                  const int64_t* dims, kiln_ownership ownership = KILN_BORROW) {
    check(kiln_session_bind_input(get(), index, data, dtype, rank, dims, ownership));
  }
  void run() { check(kiln_session_run(get())); }
  kiln_tensor_view output(size_t index) const {
    kiln_tensor_view v{};
    check(kiln_session_output(get(), index, &v));
    return v;
  }
  void set_profiling(bool on) { kiln_session_set_profiling(get(), on ? 1 : 0); }
  kiln_launch_profile launch_profile(size_t index) const {
    kiln_launch_profile p{};
    check(kiln_session_launch_profile(get(), index, &p));
    return p;
  }

 private:
  std::unique_ptr<kiln_session, decltype(&kiln_session_destroy)> ptr_{nullptr,
                                                                      &kiln_session_destroy};
};

}  // namespace kiln::rt
