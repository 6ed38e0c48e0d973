// torchvision MobileNetV2 (width 1.0): a conv-bn-relu6 stem, 17 inverted residual blocks
// (1x1 expand, 3x3 depthwise, 1x1 linear projection; identity shortcut where shapes allow),
// a 1x1 conv to 1280 channels, global average pool, flatten, and the classifier's Linear
// (its Dropout is gone in the eval-mode export). ReLU6 exports as Clip(x, 0, 6).
#include "models/zoo/families.h"
#include "models/zoo/graph_builder.h"

namespace kiln::zoo {

namespace {

using Act = GraphBuilder::Act;

Value* inverted_residual(GraphBuilder& b, const std::string& s, Value* x, int64_t cin,
                         int64_t cout, int64_t stride, int64_t expand) {
  const int64_t hidden = cin * expand;
  // torchvision numbers the block's layers conv.0, conv.1, ...; ConvBNReLU is a
  // Sequential(conv, bn, relu6), so its parts are conv.i.0 and conv.i.1.
  int layer = 0;
  auto at = [&](int i) { return s + ".conv." + std::to_string(i); };
  Value* y = x;
  if (expand != 1) {
    y = b.conv_bn(at(layer) + ".0", at(layer) + ".1", y, cin, hidden, 1, 1, 1, Act::Relu6);
    ++layer;
  }
  y = b.conv_bn(at(layer) + ".0", at(layer) + ".1", y, hidden, hidden, 3, stride, hidden,
                Act::Relu6);
  ++layer;
  y = b.conv_bn(at(layer), at(layer + 1), y, hidden, cout, 1, 1, 1, Act::None);
  if (stride == 1 && cin == cout) y = b.add(s, x, y);
  return y;
}

}  // namespace

std::unique_ptr<Graph> build_mobilenetv2(int64_t batch, int64_t image_size, uint64_t seed) {
  struct Stage {
    int64_t expand, channels, repeats, stride;
  };
  const Stage stages[] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
                          {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};

  GraphBuilder b("mobilenetv2", seed);
  Value* x = b.input("input", DType::F32, {batch, 3, image_size, image_size});
  x = b.conv_bn("features.0.0", "features.0.1", x, 3, 32, 3, 2, 1, Act::Relu6);
  int64_t cin = 32;
  int index = 1;
  for (const Stage& st : stages) {
    for (int64_t i = 0; i < st.repeats; ++i) {
      const std::string s = "features." + std::to_string(index++);
      x = inverted_residual(b, s, x, cin, st.channels, i == 0 ? st.stride : 1, st.expand);
      cin = st.channels;
    }
  }
  const std::string last = "features." + std::to_string(index);
  x = b.conv_bn(last + ".0", last + ".1", x, cin, 1280, 1, 1, 1, Act::Relu6);
  x = b.global_pool_flatten("pool", x);
  Value* logits = b.linear_gemm("classifier.1", x, 1280, 1000, "output");
  return b.finish({logits});
}

}  // namespace kiln::zoo
