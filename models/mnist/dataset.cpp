#include "models/mnist/dataset.h"

#include "ir/error.h"
#include "models/mnist/idx_reader.h"

namespace kiln::mnist {

Tensor Dataset::images(const std::vector<int64_t>& indices) const {
  const int64_t n = static_cast<int64_t>(indices.size()), plane = rows * cols;
  Tensor t(DType::F32, {n, 1, rows, cols});
  float* out = t.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t s = indices[static_cast<size_t>(i)];
    KILN_CHECK(s >= 0 && s < count, "sample index ", s, " out of range for ", count, " samples");
    const uint8_t* px = &pixels[static_cast<size_t>(s * plane)];
    for (int64_t p = 0; p < plane; ++p) {
      out[i * plane + p] = (static_cast<float>(px[p]) / 255.0f - kPixelMean) / kPixelStd;
    }
  }
  return t;
}

Tensor Dataset::label_tensor(const std::vector<int64_t>& indices) const {
  Tensor t(DType::I64, {static_cast<int64_t>(indices.size())});
  for (size_t i = 0; i < indices.size(); ++i) {
    t.data<int64_t>()[i] = labels[static_cast<size_t>(indices[i])];
  }
  return t;
}

Dataset load_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels,
                      int64_t limit) {
  IdxArray im = read_idx(images);
  IdxArray lb = read_idx(labels);
  if (im.dims.size() != 3) {
    fail("'", images.string(), "': images must have 3 dims (count, rows, cols), has ", im.dims.size());
  }
  if (lb.dims.size() != 1) {
    fail("'", labels.string(), "': labels must have 1 dim (count), has ", lb.dims.size());
  }
  if (im.dims[0] != lb.dims[0]) {
    fail("'", images.string(), "' has ", im.dims[0], " images but '", labels.string(), "' has ",
         lb.dims[0], " labels");
  }
  if (im.dims[1] != 28 || im.dims[2] != 28) {
    fail("'", images.string(), "': images are ", im.dims[1], "x", im.dims[2], ", the models take 28x28");
  }
  Dataset d;
  d.count = im.dims[0];
  d.rows = im.dims[1];
  d.cols = im.dims[2];
  if (limit > 0 && limit < d.count) d.count = limit;
  d.pixels.assign(im.data.begin(), im.data.begin() + d.count * d.rows * d.cols);
  d.labels.assign(lb.data.begin(), lb.data.begin() + d.count);
  for (int64_t i = 0; i < d.count; ++i) {
    if (d.labels[static_cast<size_t>(i)] >= kNumClasses) {
      fail("'", labels.string(), "': label ", int(d.labels[static_cast<size_t>(i)]), " of sample ",
           i, " is not a digit 0..9");
    }
  }
  return d;
}

std::filesystem::path find_data_file(const std::filesystem::path& dir, const std::string& stem) {
  std::error_code ec;
  for (const std::string& name : {stem, stem + ".gz"}) {
    if (std::filesystem::is_regular_file(dir / name, ec)) return dir / name;
  }
  fail("'", dir.string(), "': missing ", stem, " (or ", stem, ".gz)");
}

MnistSplits load_mnist(const std::filesystem::path& dir, int64_t limit_train, int64_t limit_test) {
  MnistSplits s;
  s.train = load_idx_pair(find_data_file(dir, "train-images-idx3-ubyte"),
                          find_data_file(dir, "train-labels-idx1-ubyte"), limit_train);
  s.test = load_idx_pair(find_data_file(dir, "t10k-images-idx3-ubyte"),
                         find_data_file(dir, "t10k-labels-idx1-ubyte"), limit_test);
  return s;
}

}  // namespace kiln::mnist
