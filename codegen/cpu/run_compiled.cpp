#include "codegen/cpu/run_compiled.h"

#include <cstring>

#include "codegen/artifact/artifact_writer.h"
#include "kiln/kiln.hpp"

namespace kiln::cpu_codegen {

std::map<std::string, Tensor> run_compiled(const CompiledModel& model,
                                           const std::map<std::string, Tensor>& inputs,
                                           int threads) {
  const std::vector<uint8_t> image =
      artifact::serialize_artifact(model.meta, model.weights, model.code);
  try {
    rt::Context ctx(threads);
    rt::Model m = rt::Model::load_memory(ctx, image.data(), image.size());
    rt::Session s(m);
    for (size_t i = 0; i < m.num_inputs(); ++i) {
      const kiln_tensor_info info = m.input(i);
      auto it = inputs.find(info.name);
      if (it == inputs.end()) fail("missing input '", info.name, "'");
      const Tensor& t = it->second;
      s.bind_input(i, t.raw(), static_cast<kiln_dtype>(t.dtype()),
                   static_cast<int32_t>(t.rank()), t.dims().data(), KILN_BORROW);
    }
    for (const auto& [name, t] : inputs) {
      bool known = false;
      for (size_t i = 0; i < m.num_inputs(); ++i) known = known || name == m.input(i).name;
      if (!known) fail("the model has no input '", name, "'");
    }
    s.run();
    std::map<std::string, Tensor> out;
    for (size_t i = 0; i < m.num_outputs(); ++i) {
      const kiln_tensor_view v = s.output(i);
      Tensor t(static_cast<DType>(v.info.dtype), Dims(v.info.dims, v.info.dims + v.info.rank));
      if (v.bytes) std::memcpy(t.raw(), v.data, v.bytes);
      out.emplace(v.info.name, std::move(t));
    }
    return out;
  } catch (const rt::StatusError& e) {
    fail(e.what());
  }
}

}  // namespace kiln::cpu_codegen
