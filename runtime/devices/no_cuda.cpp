// Built instead of devices/cuda/ when KILN_CUDA is OFF (no CUDA toolkit at build time).
#include "ir/error.h"
#include "runtime/devices/device.h"

namespace kiln::device {

std::shared_ptr<Device> open_cuda_device() {
  fail_unsupported(
      "this runtime was built without CUDA (reconfigure with -DKILN_CUDA=ON and "
      "the CUDA toolkit installed)");
}

}  // namespace kiln::device
