// Output shapes of the convolution family (Conv, ConvInteger, QLinearConv, ConvTranspose),
// computed from X's and W's shapes and the node attributes. Shared by shape inference (which
// may see symbolic shapes) and the reference kernels (which pass concrete ones).
#pragma once

#include <optional>
#include <string>

#include "ir/infer/window.h"
#include "ir/value_type.h"

namespace kiln {

struct ConvShape {
  Shape out;                     // [N, M, spatial...] (unknown rank if X's and W's are)
  std::optional<Window> window;  // when the kernel shape is known
  int64_t group = 1;
};

// Conv / ConvInteger / QLinearConv: X [N, C, D1..Dn], W [M, C/group, k1..kn].
// Checks ranks, channel counts against group, kernel_shape against W, and the window.
ConvShape conv_shape(const Attributes& attrs, const Shape& x, const Shape& w,
                     const std::string& where);

// ConvTranspose: X [N, C, D1..Dn], W [C, M/group, k1..kn] -> [N, M, ...]; reads output_padding
// and output_shape too. `axes` (when kernel and input sizes are known) gives per-axis geometry.
struct ConvTransposeShape {
  Shape out;
  std::optional<Window> window;
  std::vector<WindowAxis> axes;  // filled when every spatial size is static
  int64_t group = 1;
};
ConvTransposeShape conv_transpose_shape(const Attributes& attrs, const Shape& x, const Shape& w,
                                        const std::string& where);

}  // namespace kiln
