// kiln_model: loading (file or memory), validation, code loading, and the I/O queries.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "runtime/api/api_internal.h"
#include "runtime/artifact/cpu_features.h"

namespace kiln::api {

std::shared_ptr<const Model> load_model(std::shared_ptr<const Context> context,
                                        std::shared_ptr<const void> image, const uint8_t* data,
                                        uint64_t size, std::string what) {
  auto m = std::make_shared<Model>();
  m->context = std::move(context);
  m->what = std::move(what);
  m->image = std::move(image);
  m->parsed = artifact::parse_artifact(data, size, m->what, artifact::host_cpu_features());
  for (const auto& t : m->meta().inputs)
    m->input_bytes.push_back(artifact::signature_bytes(t, m->what));
  for (const auto& t : m->meta().outputs)
    m->output_bytes.push_back(artifact::signature_bytes(t, m->what));
  const artifact::CodeFormat format = m->meta().code_format;
  const DeviceKind built_for = artifact::is_opencl_format(format) ? DeviceKind::OpenCl
                               : artifact::is_cuda_format(format) ? DeviceKind::Cuda
                                                                  : DeviceKind::Cpu;
  auto device_name = [](DeviceKind k) {
    return k == DeviceKind::OpenCl ? "opencl" : k == DeviceKind::Cuda ? "cuda" : "cpu";
  };
  const DeviceKind want = m->context->device;
  if (want != DeviceKind::Auto && want != built_for) {
    fail_with(KILN_STATUS_UNSUPPORTED, m->what, ": the artifact is compiled for ",
              built_for == DeviceKind::OpenCl ? "OpenCL"
              : built_for == DeviceKind::Cuda ? "CUDA"
                                              : "the CPU",
              " (target '", m->meta().target_triple, "'), the context runs on device '",
              device_name(want), "' (recompile with --target ", device_name(want), ")");
  }
  if (built_for != DeviceKind::Cpu) {
    m->device = built_for == DeviceKind::OpenCl ? m->context->opencl_device()
                                                : m->context->cuda_device();
    m->device_description = m->device->description();
    m->device_model = m->device->load(m->parsed, m->what, m->context->pool.get());
    return m;
  }
  m->device_description = "cpu";
  m->code = std::make_unique<artifact::CodeModule>(m->parsed.code, m->parsed.code_bytes, m->what);
  for (const auto& l : m->meta().launches) m->kernels.push_back(m->code->kernel(l.symbol));
  return m;
}

namespace {

// A read-only private mapping of the whole file; weights are used in place from it.
std::shared_ptr<const void> map_file(const char* path, uint64_t* size) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail_with(errno == ENOENT ? KILN_STATUS_NOT_FOUND : KILN_STATUS_INVALID_ARGUMENT,
              "cannot open '", path, "': ", std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail_with(KILN_STATUS_INVALID_ARGUMENT, "'", path, "' is not a regular file");
  }
  *size = static_cast<uint64_t>(st.st_size);
  if (*size == 0) {
    ::close(fd);
    return std::make_shared<uint64_t>(0);  // the reader refuses it as truncated
  }
  void* p = ::mmap(nullptr, *size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (p == MAP_FAILED) {
    fail_with(KILN_STATUS_INVALID_ARGUMENT, "cannot map '", path, "': ", std::strerror(map_errno));
  }
  const uint64_t n = *size;
  return std::shared_ptr<const void>(p, [n](const void* q) { ::munmap(const_cast<void*>(q), n); });
}

}  // namespace

}  // namespace kiln::api

using kiln::api::fail_with;

extern "C" {

kiln_status* kiln_model_load_file(kiln_context* context, const char* path, kiln_model** out) {
  return kiln::api::guard(KILN_STATUS_INVALID_ARTIFACT, [&] {
    KILN_API_REQUIRE(out);
    *out = nullptr;
    KILN_API_REQUIRE(context);
    KILN_API_REQUIRE(path);
    uint64_t size = 0;
    auto image = kiln::api::map_file(path, &size);
    const auto* data = static_cast<const uint8_t*>(image.get());
    auto model =
        kiln::api::load_model(context->impl, image, data, size, std::string("'") + path + "'");
    *out = new kiln_model{std::move(model)};
  });
}

kiln_status* kiln_model_load_memory(kiln_context* context, const void* data, size_t size,
                                    kiln_model** out) {
  return kiln::api::guard(KILN_STATUS_INVALID_ARTIFACT, [&] {
    KILN_API_REQUIRE(out);
    *out = nullptr;
    KILN_API_REQUIRE(context);
    if (size) KILN_API_REQUIRE(data);
    // A 64-byte aligned private copy, so weights keep the alignment the file promises.
    void* copy = std::aligned_alloc(64, (size + 63) / 64 * 64 + 64);
    if (!copy) throw std::bad_alloc();
    std::shared_ptr<const void> image(copy, [](const void* q) { std::free(const_cast<void*>(q)); });
    if (size) std::memcpy(copy, data, size);
    auto model = kiln::api::load_model(context->impl, image, static_cast<const uint8_t*>(copy),
                                       size, "model in memory");
    *out = new kiln_model{std::move(model)};
  });
}

void kiln_model_destroy(kiln_model* model) { delete model; }

size_t kiln_model_num_inputs(const kiln_model* model) {
  return model ? model->impl->meta().inputs.size() : 0;
}

size_t kiln_model_num_outputs(const kiln_model* model) {
  return model ? model->impl->meta().outputs.size() : 0;
}

static kiln_status* tensor_info(const kiln_model* model, size_t index, kiln_tensor_info* out,
                                bool input) {
  return kiln::api::guard(KILN_STATUS_INVALID_ARGUMENT, [&] {
    KILN_API_REQUIRE(model);
    KILN_API_REQUIRE(out);
    const auto& list = input ? model->impl->meta().inputs : model->impl->meta().outputs;
    if (index >= list.size()) {
      fail_with(KILN_STATUS_INVALID_ARGUMENT, input ? "input" : "output", " index ", index,
                " is out of range (the model has ", list.size(), ")");
    }
    const auto& t = list[index];
    *out = {t.name.c_str(), static_cast<kiln_dtype>(t.dtype), static_cast<int32_t>(t.dims.size()),
            t.dims.data()};
  });
}

kiln_status* kiln_model_input_info(const kiln_model* model, size_t index, kiln_tensor_info* out) {
  return tensor_info(model, index, out, true);
}

kiln_status* kiln_model_output_info(const kiln_model* model, size_t index, kiln_tensor_info* out) {
  return tensor_info(model, index, out, false);
}

kiln_status* kiln_model_find_input(const kiln_model* model, const char* name, size_t* index) {
  return kiln::api::guard(KILN_STATUS_INVALID_ARGUMENT, [&] {
    KILN_API_REQUIRE(model);
    KILN_API_REQUIRE(name);
    KILN_API_REQUIRE(index);
    const auto& inputs = model->impl->meta().inputs;
    std::string names;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].name == name) {
        *index = i;
        return;
      }
      names += (i ? ", " : "") + inputs[i].name;
    }
    fail_with(KILN_STATUS_NOT_FOUND, "the model has no input named '", name,
              "' (inputs: ", names.empty() ? "none" : names, ")");
  });
}

uint64_t kiln_model_arena_bytes(const kiln_model* model) {
  return model ? model->impl->meta().arena_bytes : 0;
}

size_t kiln_model_num_launches(const kiln_model* model) {
  return model ? model->impl->meta().launches.size() : 0;
}

const char* kiln_model_device(const kiln_model* model) {
  if (!model) return "";
  return model->impl->device ? model->impl->device->kind() : "cpu";
}

const char* kiln_model_device_description(const kiln_model* model) {
  return model ? model->impl->device_description.c_str() : "";
}

}  // extern "C"
