// The spellings that separate OpenCL C from CUDA C++ for the kernels codegen/gpu renders: one
// table per language (kernel qualifier, address spaces, work-item ids, barriers, local/shared
// memory, math function and type names, the base+offset pointer computation). Kernel families
// are written once against KernelWriter (kernel_writer.h), which consults this table.
#pragma once

#include <array>
#include <map>
#include <string>

namespace kiln::gpu {

// Element types a kernel declares (buffers, locals). Index math is I64.
enum class Scalar { F32, F64, I8, I16, I32, I64, U8, U16, U32, U64, F16 };  // F16: storage only

struct Dialect {
  std::string name;                 // "opencl", "cuda"
  std::string prelude;              // text before the first kernel of a program
  std::string kernel_qualifier;     // "__kernel", "extern \"C\" __global__"
  std::string single_item_attribute;  // FPGA single-work-item kernels (after the qualifier)
  std::string global_space;         // address space of buffer pointers ("__global ", "")
  std::string local_space;          // work-group memory declarations ("__local ", "__shared__ ")
  std::string restrict_kw;          // "restrict", "__restrict__"
  std::array<std::string, 3> global_id, local_id, group_id;  // per dimension, as I64 values
  std::string barrier;              // work-group barrier over local memory, with ';'
  std::string unroll;               // "#pragma unroll" (a factor may follow)
  std::string infinity, nan;        // f32 constants
  std::map<Scalar, std::string> types;
  std::map<std::string, std::string> math;  // generic f32 name ("exp") -> spelling ("expf")
  // fp16 storage: widen an element to f32 / round an f32 into one. $p = pointer, $i = index,
  // $v = value.
  std::string load_half, store_half;
};

const Dialect& opencl_dialect();
const Dialect& cuda_dialect();

const char* scalar_name(Scalar s);  // "f32", for messages

}  // namespace kiln::gpu
