// Built instead of devices/opencl/ when KILN_OPENCL is OFF (no OpenCL ICD loader found).
#include "ir/error.h"
#include "runtime/devices/device.h"

namespace kiln::device {

std::shared_ptr<Device> open_opencl_device() {
  fail_unsupported("this runtime was built without OpenCL (reconfigure with -DKILN_OPENCL=ON "
                   "and an OpenCL ICD loader installed)");
}

}  // namespace kiln::device
