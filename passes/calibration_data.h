// Calibration inputs for int8 quantization (kilnc --calib-data DIR): .npy files cut into
// batches that fit the model's inputs.
//
// A single-input model takes every *.npy in DIR. With several inputs, a file belongs to input X
// when it is named X.npy or X_<digits>.npy. Each file holds samples of its input: either the
// input's full shape with any leading (batch) count, or one sample without the batch axis. Files
// are read in name order and concatenated along the batch axis; the samples are then cut into
// batches of the model's batch size (a remainder smaller than one batch is dropped).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln {

struct CalibrationData {
  std::vector<std::map<std::string, Tensor>> batches;  // one map of graph inputs per run
  int64_t samples = 0;                                 // samples per input read from DIR
};

// Fails with one line on an unreadable or empty DIR, a file that matches no input, a dtype or
// shape that does not fit its input, inputs with different sample counts, or too few samples
// for one batch.
CalibrationData load_calibration_data(const std::string& dir, const Graph& g);

}  // namespace kiln
