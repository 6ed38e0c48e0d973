// Data movement: every output element is one source element (or Pad's constant). Each kind only
// differs in how an output coordinate maps to a source offset; the elements move as unsigned
// integers of their size (Cast converts between real types).
#include "codegen/cpu/elementwise_groups.h"
#include "codegen/gpu/families.h"
#include "ir/error.h"

namespace kiln::gpu {

void emit_move(KernelWriter& k, const MoveDesc& d) {
  using cpu_codegen::contiguous_strides;
  const int64_t n = checked_numel(d.out_dims);
  const std::string out = k.ptr(d.out);
  auto src = [&](int part) { return k.ptr(d.in.at(static_cast<size_t>(part))); };
  k.parallel("i", n);
  switch (d.kind) {
    case MoveKind::Copy:
      k.line(cat(out, "[i] = ", src(0), "[i];"));
      break;
    case MoveKind::Cast: {
      const std::string v = cat(src(0), "[i]");
      if (d.cast_to_bool)
        k.line(cat(out, "[i] = (", v, " != 0) ? 1 : 0;"));
      else
        k.line(cat(out, "[i] = (", k.type(d.elem), ")", v, ";"));
      break;
    }
    case MoveKind::Transpose: {
      const auto c = decompose(k, "i", d.out_dims);
      const std::vector<int64_t> in_s = contiguous_strides(d.in_dims);
      std::vector<int64_t> s(d.perm.size());
      for (size_t j = 0; j < d.perm.size(); ++j) s[j] = in_s.at(static_cast<size_t>(d.perm[j]));
      k.line(cat(out, "[i] = ", src(0), "[", offset_of(c, s), "];"));
      break;
    }
    case MoveKind::Broadcast: {
      const auto c = decompose(k, "i", d.out_dims);
      k.line(cat(out, "[i] = ", src(0), "[", offset_of(c, d.in_strides), "];"));
      break;
    }
    case MoveKind::Slice:
    case MoveKind::Tile:
    case MoveKind::Pad: {
      const auto c = decompose(k, "i", d.out_dims);
      const std::vector<int64_t> in_s = contiguous_strides(d.in_dims);
      std::vector<std::string> q(c.size());
      std::string inside;
      for (size_t j = 0; j < c.size(); ++j) {
        q[j] = cat("q", j);
        std::string e;
        if (d.kind == MoveKind::Slice)
          e = cat(KernelWriter::i64(d.starts[j]), " + ", c[j], " * ", KernelWriter::i64(d.steps[j]));
        else if (d.kind == MoveKind::Tile)
          e = cat(c[j], " % ", KernelWriter::i64(d.in_dims[j]));
        else
          e = cat(c[j], " - ", KernelWriter::i64(d.starts[j]));
        k.line(cat("const ", k.idx(), " ", q[j], " = ", e, ";"));
        inside += cat(j ? " && " : "", q[j], " >= 0 && ", q[j], " < ",
                      KernelWriter::i64(d.in_dims[j]));
      }
      const std::string read = cat(src(0), "[", offset_of(q, in_s), "]");
      if (d.kind == MoveKind::Pad && !inside.empty())
        k.line(cat(out, "[i] = (", inside, ") ? ", read, " : ", d.pad_value, ";"));
      else
        k.line(cat(out, "[i] = ", read, ";"));
      break;
    }
    case MoveKind::Concat: {
      const auto c = decompose(k, "i", d.out_dims);
      const size_t ax = static_cast<size_t>(d.axis);
      int64_t start = 0;
      bool first = true;
      for (size_t p = 0; p < d.parts.size(); ++p) {
        const int64_t len = d.parts[p][ax];
        if (len == 0) continue;
        std::vector<std::string> q = c;
        q[ax] = cat("(", c[ax], " - ", KernelWriter::i64(start), ")");
        const std::string read =
            cat(out, "[i] = ", src(static_cast<int>(p)), "[",
                offset_of(q, contiguous_strides(d.parts[p])), "];");
        k.open(cat(first ? "if (" : "else if (", c[ax], " < ", KernelWriter::i64(start + len), ")"));
        first = false;
        k.line(read);
        k.close();
        start += len;
      }
      break;
    }
    case MoveKind::Gather: {
      const auto c = decompose(k, "i", d.out_dims);
      const size_t ax = static_cast<size_t>(d.axis), r = d.index_dims.size();
      const std::vector<int64_t> data_s = contiguous_strides(d.in_dims);
      std::vector<std::string> ic(c.begin() + static_cast<long>(ax),
                                  c.begin() + static_cast<long>(ax + r));
      k.line(cat(k.idx(), " g = (", k.idx(), ")", src(1), "[",
                 offset_of(ic, contiguous_strides(d.index_dims)), "];"));
      const std::string dim = KernelWriter::i64(d.in_dims[ax]);
      k.line(cat("if (g < 0) g += ", dim, ";"));
      k.line(cat("g = g < 0 ? 0 : (g >= ", dim, " ? ", dim, " - 1 : g);"));  // never read outside
      std::vector<std::string> q;
      for (size_t j = 0; j < ax; ++j) q.push_back(c[j]);
      q.push_back("g");
      for (size_t j = ax + r; j < c.size(); ++j) q.push_back(c[j]);
      k.line(cat(out, "[i] = ", src(0), "[", offset_of(q, data_s), "];"));
      break;
    }
  }
  k.close();
}

}  // namespace kiln::gpu
