#include "train/export.h"

#include "frontend/onnx_exporter.h"
#include "ir/infer.h"
#include "train/graph_copy.h"

namespace kiln::train {

std::unique_ptr<Graph> inference_graph(const Graph& model) {
  auto g = std::make_unique<Graph>();
  std::vector<std::pair<Value*, Value*>> bypass;  // (dropout output, its input)
  copy_graph(model, *g, [&](const Node& n, Graph&, const std::vector<Value*>& ins,
                            const std::vector<Value*>& outs) {
    if (n.op != OpKind::Dropout) return false;
    KILN_CHECK(!n.output(1) || n.output(1)->uses().empty(), n.label(),
               ": a used dropout mask cannot be exported for inference");
    bypass.emplace_back(outs[0], ins[0]);
    return true;
  });
  for (auto [out, in] : bypass) g->replace_all_uses(out, in);
  g->remove_dead_values();
  infer_shapes(*g);
  return g;
}

void export_onnx(const Graph& model, const std::filesystem::path& path) {
  frontend::save_onnx(*inference_graph(model), path);
}

}  // namespace kiln::train
