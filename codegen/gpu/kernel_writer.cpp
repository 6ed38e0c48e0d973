#include "codegen/gpu/kernel_writer.h"

#include <cmath>
#include <cstdio>

#include "ir/error.h"

namespace kiln::gpu {

KernelWriter::KernelWriter(const Dialect& dialect, Profile profile, std::string name)
    : d_(dialect), profile_(profile), name_(std::move(name)) {}

std::string KernelWriter::buffer(Scalar type) {
  buffers_.push_back(type);
  return ptr(static_cast<int>(buffers_.size()) - 1);
}

std::string KernelWriter::ptr(int arg) const { return "p" + std::to_string(arg); }

std::string KernelWriter::local_array(Scalar type, const std::string& name, int64_t count) {
  locals_.push_back(d_.local_space + this->type(type) + " " + name + "[" + i64(count) + "];");
  return name;
}

void KernelWriter::line(const std::string& text) {
  if (!text.empty() && text[0] == '#') {  // pragmas start at column 0
    body_ += text + "\n";
    return;
  }
  body_ += std::string(static_cast<size_t>(indent_) * 2, ' ') + text + "\n";
}

void KernelWriter::open(const std::string& header) {
  line(header + " {");
  ++indent_;
}

void KernelWriter::close() {
  KILN_CHECK(indent_ > 1, "kernel writer: close() without open()");
  --indent_;
  line("}");
}

void KernelWriter::loop(const std::string& var, int64_t trip, int unroll) {
  if (fpga() && unroll != 0) line(unroll < 0 ? d_.unroll : d_.unroll + " " + std::to_string(unroll));
  open(cat("for (", idx(), " ", var, " = 0; ", var, " < ", i64(trip), "; ++", var, ")"));
}

void KernelWriter::parallel(const std::string& var, int64_t n) {
  KILN_CHECK(!has_parallel_ && !has_geometry_, "kernel writer: one index space per kernel");
  has_parallel_ = true;
  parallel_n_ = n;
  if (fpga()) {
    loop(var, n);
    return;
  }
  line(cat("const ", idx(), " ", var, " = ", global_id(0), ";"));
  open(cat("if (", var, " < ", i64(n), ")"));
}

void KernelWriter::set_geometry(const LaunchGeometry& g) {
  KILN_CHECK(!has_parallel_, "kernel writer: one index space per kernel");
  has_geometry_ = true;
  geometry_ = g;
}

LaunchGeometry KernelWriter::geometry() const {
  if (fpga()) return {1, 1, 1, 1, 1, 1};
  if (has_geometry_) return geometry_;
  const int64_t n = std::max<int64_t>(parallel_n_, 1);
  return {(n + kGroupSize - 1) / kGroupSize * kGroupSize, 1, 1, kGroupSize, 1, 1};
}

std::string KernelWriter::type(Scalar s) const { return d_.types.at(s); }

std::string KernelWriter::math(const std::string& fn, const std::string& a) const {
  return d_.math.at(fn) + "(" + a + ")";
}

std::string KernelWriter::math(const std::string& fn, const std::string& a,
                               const std::string& b) const {
  return d_.math.at(fn) + "(" + a + ", " + b + ")";
}

std::string KernelWriter::f32(float v) const {
  if (std::isnan(v)) return d_.nan;
  if (std::isinf(v)) return v > 0 ? d_.infinity : "(-" + d_.infinity + ")";
  if (v == 0.0f) return std::signbit(v) ? "(-0.0f)" : "0.0f";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", static_cast<double>(v));  // exact: 0x1.8p+1
  const std::string s = buf;
  return s[0] == '-' ? "(" + s + "f)" : s + "f";
}

namespace {
std::string fill(std::string s, const std::string& key, const std::string& value) {
  for (size_t at = s.find(key); at != std::string::npos; at = s.find(key, at + value.size()))
    s.replace(at, key.size(), value);
  return s;
}
}  // namespace

std::string KernelWriter::load_half(const std::string& p, const std::string& i) const {
  return fill(fill(d_.load_half, "$p", p), "$i", i);
}

std::string KernelWriter::store_half(const std::string& p, const std::string& i,
                                     const std::string& v) const {
  return fill(fill(fill(d_.store_half, "$p", p), "$i", i), "$v", v) + ";";
}

std::string KernelWriter::i64(int64_t v) {
  if (v == INT64_MIN) return "(-9223372036854775807L - 1L)";
  return v < 0 ? "(" + std::to_string(v) + "L)" : std::to_string(v) + "L";
}

std::string KernelWriter::fresh(const std::string& prefix) {
  return prefix + std::to_string(counter_++);
}

std::string KernelWriter::render() const {
  KILN_CHECK(indent_ == 1, "kernel writer: kernel '", name_, "' has an unclosed block");
  const std::string g = d_.global_space;
  std::string s = d_.kernel_qualifier + " ";
  if (fpga()) s += d_.single_item_attribute + " ";
  s += "void " + name_ + "(";
  for (size_t i = 0; i < buffers_.size(); ++i) {
    const std::string t = type(buffers_[i]);
    s += cat(i ? ",\n    " : "", g, t, "* base", i, ", ", type(Scalar::U64), " off", i);
  }
  s += ") {\n";
  for (const auto& l : locals_) s += "  " + l + "\n";
  const std::string u8 = type(Scalar::U8);
  for (size_t i = 0; i < buffers_.size(); ++i) {
    const std::string t = type(buffers_[i]);
    s += cat("  ", g, t, "* ", d_.restrict_kw, " p", i, " = (", g, t, "*)((", g, u8, "*)base", i,
             " + off", i, ");\n");
  }
  s += body_;
  s += "}\n";
  return s;
}

RenderedKernel finish(const KernelWriter& k) { return {k.name(), k.render(), k.geometry()}; }

std::string render_program(const Dialect& d, const std::vector<RenderedKernel>& kernels) {
  std::string s = d.prelude;
  for (const auto& k : kernels) s += "\n" + k.source;
  return s;
}

}  // namespace kiln::gpu
