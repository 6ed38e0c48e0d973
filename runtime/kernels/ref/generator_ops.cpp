// Reference kernels for ops that produce shapes or fresh tensors:
// Shape, Size, ConstantOfShape, Range, Constant, EyeLike.
#include <cstring>

#include "runtime/kernels/ref/ref_util.h"
#include "runtime/kernels/ref/shape_kernel_util.h"

namespace kiln {

void ref_Shape(KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int64_t r = in.rank();
  int64_t start = 0;
  if (ctx.opset >= 15) {
    start = ctx.attr().get_int("start", 0);
    start = std::clamp<int64_t>(start < 0 ? start + r : start, 0, r);
  }
  int64_t* o = out.data<int64_t>();
  for (int64_t i = 0; i < out.numel(); ++i) o[i] = in.dim(start + i);
}

void ref_Size(KernelContext& ctx) { ctx.output(0).data<int64_t>()[0] = ctx.input(0).numel(); }

void ref_ConstantOfShape(KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  const Attribute* v = ctx.attr().find("value");
  if (!v) return;  // default: f32 zeros, already zero-filled
  for (int64_t i = 0; i < out.numel(); ++i) ref::copy_bytes(out, i, v->t, 0);
}

void ref_Range(KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  const Tensor &s = ctx.input(0), &d = ctx.input(2);
  dispatch_dtype(out.dtype(), "Range", [&]<typename T>() {
    T* o = out.data<T>();
    if constexpr (std::is_integral_v<T>) {
      const __int128 start = s.as_int64(0), delta = d.as_int64(0);
      // Every value lies in [start, limit), so it fits T; the product needs 128 bits.
      for (int64_t i = 0; i < out.numel(); ++i) o[i] = static_cast<T>(start + i * delta);
    } else {
      const double start = s.as_double(0), delta = d.as_double(0);
      for (int64_t i = 0; i < out.numel(); ++i) {
        o[i] = static_cast<T>(start + static_cast<double>(i) * delta);
      }
    }
  });
}

void ref_Constant(KernelContext& ctx) {
  const auto& [name, at] = *ctx.attr().all().begin();
  Tensor& out = ctx.output(0);
  if (name == "value") {
    if (at.t.nbytes()) std::memcpy(out.raw(), at.t.raw(), at.t.nbytes());
  } else if (name == "value_float") {
    out.data<float>()[0] = at.f;
  } else if (name == "value_floats") {
    for (size_t i = 0; i < at.floats.size(); ++i) out.data<float>()[i] = at.floats[i];
  } else if (name == "value_int") {
    out.data<int64_t>()[0] = at.i;
  } else if (name == "value_ints") {
    for (size_t i = 0; i < at.ints.size(); ++i) out.data<int64_t>()[i] = at.ints[i];
  } else {
    ctx.fail("unsupported attribute '", name, "'");
  }
}

void ref_EyeLike(KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  const int64_t k = ctx.attr().get_int("k", 0);
  const int64_t rows = out.dim(0), cols = out.dim(1);
  dispatch_dtype(out.dtype(), "EyeLike", [&]<typename T>() {
    T* o = out.data<T>();
    for (int64_t i = 0; i < rows; ++i) {
      // Column i + k, computed without overflow for hostile k.
      if (k >= cols || k < -rows) break;
      const int64_t j = i + k;
      if (j >= 0 && j < cols) o[i * cols + j] = static_cast<T>(1.0f);
    }
  });
}

}  // namespace kiln
