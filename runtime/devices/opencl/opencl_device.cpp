// The OpenCL device (one context for every model loaded on it), program building and model load.
#include <cstring>
#include <sstream>

#include "runtime/devices/opencl/opencl_model.h"
#include "runtime/kernels/launch/builtins.h"
#include "runtime/kernels/launch/op_record.h"

namespace kiln::opencl {

using artifact::BufferKind;
using artifact::CodeFormat;

OpenClDevice::OpenClDevice(DeviceChoice choice) : choice_(std::move(choice)) {
  cl_int err = CL_SUCCESS;
  const cl_context_properties props[] = {
      CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(choice_.platform), 0};
  context_ = ContextHandle(cl().clCreateContext(props, 1, &choice_.device, nullptr, nullptr, &err));
  check_cl(err, "clCreateContext");
}

std::string OpenClDevice::description() const {
  return "OpenCL: " + choice_.device_name + " (" + choice_.platform_name + ")";
}

std::unique_ptr<device::DeviceModel> OpenClDevice::load(const artifact::ParsedArtifact& parsed,
                                                        const std::string& what, ThreadPool* pool) {
  return std::make_unique<OpenClModel>(shared_from_this(), parsed, what, pool);
}

namespace {

// The first lines of a build log, joined into one line.
std::string log_summary(const std::string& log) {
  std::istringstream in(log);
  std::string line, out;
  int lines = 0;
  while (std::getline(in, line) && lines < 6) {
    const size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    out += (out.empty() ? "" : " | ") + line.substr(b);
    ++lines;
  }
  if (out.size() > 700) out = out.substr(0, 700) + "...";
  return out.empty() ? "(empty build log)" : out;
}

}  // namespace

ProgramHandle build_program(const OpenClDevice& device, const artifact::ParsedArtifact& parsed,
                            const std::string& what) {
  cl_int err = CL_SUCCESS;
  cl_device_id dev = device.id();
  ProgramHandle program;
  if (parsed.meta.code_format == CodeFormat::OpenClSource) {
    const char* src = reinterpret_cast<const char*>(parsed.code);
    const size_t len = parsed.code_bytes;
    program = ProgramHandle(cl().clCreateProgramWithSource(device.context(), 1, &src, &len, &err));
    check_cl(err, "clCreateProgramWithSource");
  } else {
    const unsigned char* bin = parsed.code;
    const size_t len = parsed.code_bytes;
    cl_int binary_status = CL_SUCCESS;
    program = ProgramHandle(cl().clCreateProgramWithBinary(device.context(), 1, &dev, &len, &bin,
                                                           &binary_status, &err));
    if (err != CL_SUCCESS || binary_status != CL_SUCCESS) {
      fail(what, ": the OpenCL program binary does not load on ", device.description(), ": ",
           cl_error_name(err != CL_SUCCESS ? err : binary_status));
    }
  }
  err = cl().clBuildProgram(program.get(), 1, &dev, "-cl-std=CL1.2", nullptr, nullptr);
  if (err != CL_SUCCESS) {
    size_t n = 0;
    std::string log;
    if (cl().clGetProgramBuildInfo(program.get(), dev, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n) ==
            CL_SUCCESS &&
        n > 0) {
      log.resize(n);
      cl().clGetProgramBuildInfo(program.get(), dev, CL_PROGRAM_BUILD_LOG, n, log.data(), nullptr);
      log.resize(std::strlen(log.c_str()));
    }
    fail(what, ": OpenCL program build failed (", cl_error_name(err), "): ", log_summary(log));
  }
  return program;
}

OpenClModel::OpenClModel(std::shared_ptr<const OpenClDevice> dev, const artifact::ParsedArtifact& p,
                         const std::string& w, ThreadPool* tp)
    : device(std::move(dev)), parsed(p), what(w), pool(tp) {
  const auto& meta = parsed.meta;
  for (const auto& t : meta.inputs) input_bytes.push_back(artifact::signature_bytes(t, what));
  for (const auto& t : meta.outputs) output_bytes.push_back(artifact::signature_bytes(t, what));
  program = build_program(*device, parsed, what);
  weights =
      create_buffer(device->context(), CL_MEM_READ_ONLY, parsed.weights_bytes, parsed.weights);
  host_ops.resize(meta.launches.size());
  is_host_op.resize(meta.launches.size());
  for (size_t l = 0; l < meta.launches.size(); ++l) {
    const auto& launch = meta.launches[l];
    if (launch.symbol == artifact::kOpenClHostOpSymbol) {
      // Decoded now so a bad record fails the load, and so the run knows which args it writes.
      const auto& rec = launch.args[0];
      uint64_t size = 0;
      if (rec.bytes < launch::kOpRecordPrefixBytes)
        fail(what, ": host op '", launch.node_name, "' has no op record");
      std::memcpy(&size, parsed.weights + rec.offset, sizeof size);
      if (size > rec.bytes - launch::kOpRecordPrefixBytes)
        fail(what, ": host op '", launch.node_name, "' op record overruns its region");
      const launch::OpRecord r =
          launch::decode_op_record(parsed.weights + rec.offset + launch::kOpRecordPrefixBytes, size,
                                   what + ": op record of '" + launch.node_name + "'");
      const size_t ni = r.present_inputs(), no = r.present_outputs();
      if (launch.args.size() != 1 + ni + no) {
        fail(what, ": host op '", launch.node_name, "' has ", launch.args.size() - 1,
             " buffer args, its op record needs ", ni + no);
      }
      // The host copies hold exactly the regions: each must fit the tensor the record names.
      size_t a = 1;
      for (const auto* list : {&r.inputs, &r.outputs}) {
        for (const launch::OpRecordTensor& t : *list) {
          if (!t.present) continue;
          uint64_t need = dtype_size(t.dtype);
          for (int64_t d : t.dims) need *= static_cast<uint64_t>(d);
          if (launch.args[a].bytes < need) {
            fail(what, ": host op '", launch.node_name, "' argument ", a, " is ",
                 launch.args[a].bytes, " bytes, its op record's ", dtype_name(t.dtype), "[",
                 dims_to_string(t.dims), "] needs ", need);
          }
          ++a;
        }
      }
      for (size_t a = 1 + ni; a < launch.args.size(); ++a) {
        const BufferKind k = launch.args[a].kind;
        if (k != BufferKind::Arena && k != BufferKind::Output)
          fail(what, ": host op '", launch.node_name, "' writes a read-only ", buffer_kind_name(k),
               " buffer");
      }
      host_ops[l].num_inputs = ni;
      is_host_op[l] = true;
      continue;
    }
    cl_int err = CL_SUCCESS;
    KernelHandle k(cl().clCreateKernel(program.get(), launch.symbol.c_str(), &err));
    if (err != CL_SUCCESS) {
      fail(what, ": the OpenCL program has no kernel '", launch.symbol, "' (node '",
           launch.node_name, "'): ", cl_error_name(err));
    }
    cl_uint nargs = 0;
    KILN_CL_CHECK(cl().clGetKernelInfo(k.get(), CL_KERNEL_NUM_ARGS, sizeof nargs, &nargs, nullptr));
    if (nargs != 2 * launch.args.size()) {
      fail(what, ": OpenCL kernel '", launch.symbol, "' takes ", nargs, " parameters, its launch ",
           "passes ", 2 * launch.args.size(), " (a buffer and a byte offset per argument)");
    }
  }
}

}  // namespace kiln::opencl

namespace kiln::device {

std::shared_ptr<Device> open_opencl_device() {
  return std::make_shared<opencl::OpenClDevice>(opencl::choose_device());
}

}  // namespace kiln::device
