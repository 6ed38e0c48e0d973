// Max/Average pooling with 1-3 spatial axes, strides, dilations, pads and ceil_mode windows (the
// geometry resolved by ir/infer/window.h): one work item per output element, the window's taps
// in compile-time loops (unrolled fully on FPGAs). Matches the reference: the first maximum wins,
// an empty window gives the lowest float; averages divide by the in-bounds taps, or with
// count_include_pad by the taps inside the padded input.
#include "codegen/cpu/elementwise_groups.h"
#include "codegen/gpu/families.h"
#include "ir/error.h"

namespace kiln::gpu {

void emit_pool(KernelWriter& k, const PoolDesc& d) {
  const size_t r = d.kernel.size();
  KILN_CHECK(r >= 1 && d.in_spatial.size() == r && d.out_spatial.size() == r &&
                 d.strides.size() == r && d.dilations.size() == r && d.pad_begin.size() == r &&
                 d.pad_end.size() == r,
             "pool: inconsistent window rank");
  const int64_t in_plane = checked_numel(d.in_spatial), out_plane = checked_numel(d.out_spatial);
  const std::vector<int64_t> in_s = cpu_codegen::contiguous_strides(d.in_spatial);
  const std::string x = k.ptr(d.in), y = k.ptr(d.out);
  k.parallel("o", d.planes * out_plane);
  k.line(cat("const ", k.idx(), " plane = o / ", KernelWriter::i64(out_plane), ";"));
  const auto oc = decompose(k, cat("(o % ", KernelWriter::i64(out_plane), ")"), d.out_spatial);
  k.line(cat("const ", k.idx(), " base = plane * ", KernelWriter::i64(in_plane), ";"));
  if (d.max) {
    k.line(cat("float best = ", k.f32(-3.40282347e38f), ";"));
    k.line("int any = 0;");
  } else {
    k.line("float sum = 0.0f;");
    k.line("int inside = 0, padded = 0;");
  }
  std::vector<std::string> pos(r);
  for (size_t i = 0; i < r; ++i) {
    const std::string t = cat("t", i);
    k.loop(t, d.kernel[i], -1);
    pos[i] = cat("q", i);
    k.line(cat("const ", k.idx(), " ", pos[i], " = ", oc[i], " * ", KernelWriter::i64(d.strides[i]),
               " - ", KernelWriter::i64(d.pad_begin[i]), " + ", t, " * ",
               KernelWriter::i64(d.dilations[i]), ";"));
  }
  std::string in_bounds, in_padded, off;
  for (size_t i = 0; i < r; ++i) {
    in_bounds += cat(i ? " && " : "", pos[i], " >= 0 && ", pos[i], " < ",
                     KernelWriter::i64(d.in_spatial[i]));
    in_padded += cat(i ? " && " : "", pos[i], " < ",
                     KernelWriter::i64(d.in_spatial[i] + d.pad_end[i]));
  }
  off = offset_of(pos, in_s);
  if (d.max) {
    k.open(cat("if (", in_bounds, ")"));
    k.line(cat("const float v = ", x, "[base + ", off, "];"));
    k.line("if (!any || v > best) best = v;");
    k.line("any = 1;");
    k.close();
  } else {
    k.open(cat("if (", in_bounds, ")"));
    k.line(cat("sum += ", x, "[base + ", off, "];"));
    k.line("++inside;");
    k.close();
    k.line(cat("if (", in_padded, ") ++padded;"));
  }
  for (size_t i = 0; i < r; ++i) k.close();
  if (d.max) {
    k.line(cat(y, "[o] = best;"));
  } else {
    const std::string n = d.count_include_pad ? "padded" : "inside";
    k.line(cat(y, "[o] = ", n, " == 0 ? 0.0f : sum / (float)", n, ";"));
  }
  k.close();
}

}  // namespace kiln::gpu
