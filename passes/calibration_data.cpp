#include "passes/calibration_data.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "runtime/io/npy.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The graph input a file stem belongs to, or nullptr.
const Value* input_for(const Graph& g, const std::string& stem) {
  if (g.inputs.size() == 1) return g.inputs[0];
  for (const Value* v : g.inputs) {
    const std::string& n = v->name();
    if (stem == n) return v;
    if (stem.size() > n.size() + 1 && stem.compare(0, n.size(), n) == 0 && stem[n.size()] == '_' &&
        all_digits(std::string_view(stem).substr(n.size() + 1)))
      return v;
  }
  return nullptr;
}

std::string input_names(const Graph& g) {
  std::string s;
  for (const Value* v : g.inputs) s += (s.empty() ? "" : ", ") + v->name();
  return s;
}

}  // namespace

CalibrationData load_calibration_data(const std::string& dir, const Graph& g) {
  const std::string where = cat("--calib-data ", dir, ": ");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(where, "not a directory");
  if (g.inputs.empty()) fail(where, "the model has no inputs to calibrate");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".npy") files.push_back(e.path());
  if (ec) fail(where, "cannot list the folder: ", ec.message());
  if (files.empty()) fail(where, "no .npy files in the folder");
  std::sort(files.begin(), files.end());

  // Per input: its declared dims and the samples read so far (one sample = numel / batch).
  std::map<const Value*, std::vector<Tensor>> parts;
  std::map<const Value*, int64_t> counts;
  for (const fs::path& f : files) {
    const Value* in = input_for(g, f.stem().string());
    if (!in)
      fail(where, "'", f.filename().string(), "' matches none of the model's inputs (",
           input_names(g), "); name files INPUT.npy or INPUT_N.npy");
    const Dims d = in->type.shape.static_dims();
    Tensor t = read_npy(f);
    const std::string what = cat("'", f.filename().string(), "' is ", dtype_name(t.dtype()), " [",
                                 dims_to_string(t.dims()), "] but input '", in->name(), "' is ",
                                 dtype_name(in->type.dtype), " [", dims_to_string(d), "]");
    if (t.dtype() != in->type.dtype) fail(where, what);
    if (d.empty()) fail(where, "input '", in->name(), "' is a scalar; it has no batch axis to fill");
    const Dims sample(d.begin() + 1, d.end());
    Dims td = t.dims();
    if (td.size() + 1 == d.size()) td.insert(td.begin(), 1);  // one sample without batch axis
    if (td.size() != d.size() || !std::equal(td.begin() + 1, td.end(), sample.begin()))
      fail(where, what, " (samples must be [N, ", dims_to_string(sample), "] or [",
           dims_to_string(sample), "])");
    counts[in] += td[0];
    parts[in].push_back(t.reshaped(td));
  }
  CalibrationData out;
  out.samples = -1;
  for (const Value* in : g.inputs) {
    const int64_t n = counts.count(in) ? counts[in] : 0;
    if (n == 0) fail(where, "no files for input '", in->name(), "'");
    if (out.samples >= 0 && n != out.samples)
      fail(where, "input '", in->name(), "' has ", n, " samples but '", g.inputs[0]->name(),
           "' has ", out.samples);
    out.samples = n;
  }
  const int64_t batch = g.inputs[0]->type.shape.static_dims()[0];
  if (batch <= 0 || out.samples < batch)
    fail(where, out.samples, " samples, fewer than the model's batch of ", batch);
  const int64_t runs = out.samples / batch;
  out.batches.resize(static_cast<size_t>(runs));
  for (const Value* in : g.inputs) {
    const Dims d = in->type.shape.static_dims();
    if (d[0] != batch)
      fail(where, "inputs '", g.inputs[0]->name(), "' and '", in->name(),
           "' have different batch sizes");
    const size_t sample_bytes = static_cast<size_t>(checked_numel(d) / d[0]) *
                                dtype_size(in->type.dtype);
    // Copy sample by sample from the concatenated parts into each batch.
    size_t part = 0;
    int64_t in_part = 0;
    for (int64_t r = 0; r < runs; ++r) {
      Tensor b(in->type.dtype, d);
      auto* dst = static_cast<uint8_t*>(b.raw());
      for (int64_t s = 0; s < batch; ++s) {
        const std::vector<Tensor>& ps = parts[in];
        while (in_part >= ps[part].dims()[0]) {
          ++part;
          in_part = 0;
        }
        std::memcpy(dst + s * sample_bytes,
                    static_cast<const uint8_t*>(ps[part].raw()) + in_part * sample_bytes,
                    sample_bytes);
        ++in_part;
      }
      out.batches[static_cast<size_t>(r)][in->name()] = std::move(b);
    }
  }
  return out;
}

}  // namespace kiln
