// Shape inference for the vision ops: GridSample, AffineGrid, RoiAlign, NonMaxSuppression.
#include <string>

#include "ir/infer_util.h"

namespace kiln {

namespace {

Dim dim_of(const Shape& s, size_t i) { return s.rank_known && i < s.rank() ? s.dims[i] : Dim::unknown(); }

void require_float_input(const InferContext& ctx, size_t i, const char* what) {
  if (!is_float(ctx.dtype(i))) {
    ctx.fail(what, " must be f16, bf16, f32 or f64, got ", dtype_name(ctx.dtype(i)));
  }
}

void require_rank(const InferContext& ctx, size_t i, size_t rank, const char* what) {
  const Shape& s = ctx.shape(i);
  if (s.rank_known && s.rank() != rank) ctx.fail(what, " must have rank ", rank, ", got ", s.to_string());
}

bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (v == a) return true;
  }
  return false;
}

}  // namespace

// ---- GridSample (opset 16: 4-D, bilinear/nearest/bicubic; 20+: N-D, linear/nearest/cubic)

void infer_GridSample(InferContext& ctx) {
  const Attributes& a = ctx.attr();
  const std::string mode = a.get_string("mode", ctx.opset >= 20 ? "linear" : "bilinear");
  if (ctx.opset >= 20) {
    ctx.check(one_of(mode, {"linear", "nearest", "cubic"}), "mode '", mode,
              "' is not one of linear, nearest, cubic");
  } else {
    ctx.check(one_of(mode, {"bilinear", "nearest", "bicubic"}), "mode '", mode,
              "' is not one of bilinear, nearest, bicubic");
  }
  const std::string pad = a.get_string("padding_mode", "zeros");
  ctx.check(one_of(pad, {"zeros", "border", "reflection"}), "padding_mode '", pad,
            "' is not one of zeros, border, reflection");
  const int64_t ac = a.get_int("align_corners", 0);
  ctx.check(ac == 0 || ac == 1, "align_corners must be 0 or 1, got ", ac);
  const DType t = ctx.dtype(0);
  ctx.check(t != DType::String && t != DType::Bool, "X has unsupported dtype ", dtype_name(t));
  require_float_input(ctx, 1, "grid");
  ctx.output(0).dtype = t;
  const Shape &x = ctx.shape(0), &g = ctx.shape(1);
  if (x.rank_known && x.rank() < 3) ctx.fail("X must have rank >= 3, got ", x.to_string());
  if (ctx.opset < 20) {
    require_rank(ctx, 0, 4, "X");
    require_rank(ctx, 1, 4, "grid");
  }
  size_t rank = 0;
  if (x.rank_known) rank = x.rank();
  if (g.rank_known) {
    if (rank && g.rank() != rank) ctx.fail("grid rank ", g.rank(), " differs from X rank ", rank);
    rank = g.rank();
    const Dim& last = g.dims.back();
    if (last.is_static() && last.value != static_cast<int64_t>(rank) - 2) {
      ctx.fail("grid last dim must be ", rank - 2, " (one coordinate per spatial dim), got ", last.value);
    }
  }
  if (rank == 0) {
    ctx.output(0).shape = Shape::unknown_rank();
    return;
  }
  Shape out = Shape::of_rank(rank);
  const Dim n0 = dim_of(x, 0), n1 = dim_of(g, 0);
  if (n0.is_static() && n1.is_static() && n0.value != n1.value) {
    ctx.fail("X batch ", n0.value, " differs from grid batch ", n1.value);
  }
  out.dims[0] = n0.is_static() ? n0 : n1;
  out.dims[1] = dim_of(x, 1);
  for (size_t i = 2; i < rank; ++i) out.dims[i] = dim_of(g, i - 1);
  ctx.output(0).shape = std::move(out);
}

// ---- AffineGrid (opset 20)

void infer_AffineGrid(InferContext& ctx) {
  require_float_input(ctx, 0, "theta");
  ctx.check(ctx.dtype(1) == DType::I64, "size must be int64, got ", dtype_name(ctx.dtype(1)));
  const int64_t ac = ctx.attr().get_int("align_corners", 0);
  ctx.check(ac == 0 || ac == 1, "align_corners must be 0 or 1, got ", ac);
  ctx.output(0).dtype = ctx.dtype(0);
  require_rank(ctx, 0, 3, "theta");
  require_rank(ctx, 1, 1, "size");
  const Shape& th = ctx.shape(0);
  size_t spatial = 0;
  if (const Dim d = dim_of(ctx.shape(1), 0); d.is_static()) {
    ctx.check(d.value == 4 || d.value == 5, "size must have 4 or 5 values, got ", d.value);
    spatial = static_cast<size_t>(d.value) - 2;
  } else if (const Dim r = dim_of(th, 1); r.is_static()) {
    spatial = static_cast<size_t>(r.value);
  }
  if (spatial != 0) {
    const Dim r = dim_of(th, 1), c = dim_of(th, 2);
    ctx.check((!r.is_static() || r.value == static_cast<int64_t>(spatial)) &&
                  (!c.is_static() || c.value == static_cast<int64_t>(spatial) + 1),
              "theta must be (N, ", spatial, ", ", spatial + 1, "), got ", th.to_string());
  }
  const auto size = const_ints(ctx, 1);
  if (!size) {
    ctx.output(0).shape = spatial ? Shape::of_rank(spatial + 2) : Shape::unknown_rank();
    if (spatial) {
      ctx.output(0).shape.dims[0] = dim_of(th, 0);
      ctx.output(0).shape.dims.back() = Dim::of(static_cast<int64_t>(spatial));
    }
    return;
  }
  for (int64_t v : *size) ctx.check(v >= 0, "size values must be >= 0, got ", v);
  const Dim n = dim_of(th, 0);
  ctx.check(!n.is_static() || n.value == (*size)[0], "theta batch ", n.value,
            " differs from size[0] = ", (*size)[0]);
  Dims out = {(*size)[0]};
  for (size_t i = 2; i < size->size(); ++i) out.push_back((*size)[i]);
  out.push_back(static_cast<int64_t>(size->size()) - 2);
  ctx.output(0).shape = Shape::of(out);
}

// ---- RoiAlign (opset 10, 16, 22)

void infer_RoiAlign(InferContext& ctx) {
  require_float_input(ctx, 0, "X");
  ctx.check(ctx.dtype(1) == ctx.dtype(0), "rois must have X's dtype");
  ctx.check(ctx.dtype(2) == DType::I64, "batch_indices must be int64, got ", dtype_name(ctx.dtype(2)));
  const Attributes& a = ctx.attr();
  const std::string mode = a.get_string("mode", "avg");
  ctx.check(mode == "avg" || mode == "max", "mode '", mode, "' is not one of avg, max");
  if (ctx.opset >= 16) {
    const std::string ctm = a.get_string("coordinate_transformation_mode", "half_pixel");
    ctx.check(ctm == "half_pixel" || ctm == "output_half_pixel", "coordinate_transformation_mode '",
              ctm, "' is not one of half_pixel, output_half_pixel");
  }
  const int64_t oh = a.get_int("output_height", 1), ow = a.get_int("output_width", 1);
  ctx.check(oh > 0 && ow > 0, "output_height/width must be positive, got ", oh, "x", ow);
  ctx.check(a.get_int("sampling_ratio", 0) >= 0, "sampling_ratio must be >= 0");
  require_rank(ctx, 0, 4, "X");
  require_rank(ctx, 1, 2, "rois");
  require_rank(ctx, 2, 1, "batch_indices");
  const Dim cols = dim_of(ctx.shape(1), 1);
  ctx.check(!cols.is_static() || cols.value == 4, "rois must have 4 columns, got ", cols.value);
  Dim n = dim_of(ctx.shape(1), 0);
  const Dim nb = dim_of(ctx.shape(2), 0);
  if (n.is_static() && nb.is_static() && n.value != nb.value) {
    ctx.fail("rois has ", n.value, " rows but batch_indices has ", nb.value);
  }
  if (!n.is_static()) n = nb;
  ctx.output(0).dtype = ctx.dtype(0);
  ctx.output(0).shape = Shape::of_rank(4);
  ctx.output(0).shape.dims = {n, dim_of(ctx.shape(0), 1), Dim::of(oh), Dim::of(ow)};
}

// ---- NonMaxSuppression (opset 10, 11): output is data-dependent (selected, 3)

void infer_NonMaxSuppression(InferContext& ctx) {
  require_float_input(ctx, 0, "boxes");
  require_float_input(ctx, 1, "scores");
  const int64_t cpb = ctx.attr().get_int("center_point_box", 0);
  ctx.check(cpb == 0 || cpb == 1, "center_point_box must be 0 or 1, got ", cpb);
  if (ctx.has_input(2)) ctx.check(ctx.dtype(2) == DType::I64, "max_output_boxes_per_class must be int64");
  for (size_t i = 3; i < 5; ++i) {
    if (ctx.has_input(i)) require_float_input(ctx, i, i == 3 ? "iou_threshold" : "score_threshold");
  }
  require_rank(ctx, 0, 3, "boxes");
  require_rank(ctx, 1, 3, "scores");
  const Shape &b = ctx.shape(0), &s = ctx.shape(1);
  const Dim four = dim_of(b, 2);
  ctx.check(!four.is_static() || four.value == 4, "boxes last dim must be 4, got ", four.value);
  for (size_t i : {size_t{0}, size_t{2}}) {
    const Dim bd = dim_of(b, i ? 1 : 0), sd = dim_of(s, i);
    ctx.check(!bd.is_static() || !sd.is_static() || bd.value == sd.value, "boxes ",
              b.to_string(), " and scores ", s.to_string(), " disagree on batches or boxes");
  }
  ctx.output(0).dtype = DType::I64;
  ctx.output(0).shape = Shape::of_rank(2);
  ctx.output(0).shape.dims[1] = Dim::of(3);
}

}  // namespace kiln
