// torchvision ResNet-18 / ResNet-50 (v1.5: a bottleneck's stride sits on its 3x3 conv), as
// torch.onnx.export writes them in eval mode without constant folding of BatchNorm:
// conv-bn-relu stem, max-pool, four stages of residual blocks, global average pool, flatten, fc.
#include "models/zoo/families.h"
#include "models/zoo/graph_builder.h"

namespace kiln::zoo {

namespace {

using Act = GraphBuilder::Act;

// conv3x3-bn-relu, conv3x3-bn, + identity or 1x1-conv-bn shortcut, relu. Expansion 1.
Value* basic_block(GraphBuilder& b, const std::string& s, Value* x, int64_t cin, int64_t planes,
                   int64_t stride) {
  Value* y = b.conv_bn(s + ".conv1", s + ".bn1", x, cin, planes, 3, stride, 1, Act::Relu);
  y = b.conv_bn(s + ".conv2", s + ".bn2", y, planes, planes, 3, 1, 1, Act::None);
  Value* shortcut = x;
  if (stride != 1 || cin != planes) {
    shortcut = b.conv_bn(s + ".downsample.0", s + ".downsample.1", x, cin, planes, 1, stride, 1,
                         Act::None);
  }
  return b.relu(s + ".relu", b.add(s, y, shortcut));
}

// conv1x1-bn-relu, conv3x3(stride)-bn-relu, conv1x1(4x)-bn, + shortcut, relu. Expansion 4.
Value* bottleneck(GraphBuilder& b, const std::string& s, Value* x, int64_t cin, int64_t planes,
                  int64_t stride) {
  const int64_t cout = planes * 4;
  Value* y = b.conv_bn(s + ".conv1", s + ".bn1", x, cin, planes, 1, 1, 1, Act::Relu);
  y = b.conv_bn(s + ".conv2", s + ".bn2", y, planes, planes, 3, stride, 1, Act::Relu);
  y = b.conv_bn(s + ".conv3", s + ".bn3", y, planes, cout, 1, 1, 1, Act::None);
  Value* shortcut = x;
  if (stride != 1 || cin != cout) {
    shortcut = b.conv_bn(s + ".downsample.0", s + ".downsample.1", x, cin, cout, 1, stride, 1,
                         Act::None);
  }
  return b.relu(s + ".relu", b.add(s, y, shortcut));
}

}  // namespace

std::unique_ptr<Graph> build_resnet(int depth, int64_t batch, int64_t image_size, uint64_t seed) {
  KILN_CHECK(depth == 18 || depth == 50, "resnet: depth ", depth, " is not 18 or 50");
  const bool bottlenecks = depth == 50;
  const int blocks[4] = {2, 2, 2, 2};
  const int blocks50[4] = {3, 4, 6, 3};

  GraphBuilder b("resnet" + std::to_string(depth), seed);
  Value* x = b.input("input", DType::F32, {batch, 3, image_size, image_size});
  x = b.conv_bn("conv1", "bn1", x, 3, 64, 7, 2, 1, Act::Relu);
  Attributes pool;
  pool.set("ceil_mode", Attribute::of_int(0));
  pool.set("kernel_shape", Attribute::of_ints({3, 3}));
  pool.set("pads", Attribute::of_ints({1, 1, 1, 1}));
  pool.set("strides", Attribute::of_ints({2, 2}));
  x = b.op(OpKind::MaxPool, {x}, "/maxpool/MaxPool", std::move(pool));

  int64_t cin = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = int64_t{64} << stage;
    const int n = bottlenecks ? blocks50[stage] : blocks[stage];
    for (int i = 0; i < n; ++i) {
      const std::string s = "layer" + std::to_string(stage + 1) + "." + std::to_string(i);
      const int64_t stride = (stage > 0 && i == 0) ? 2 : 1;
      x = bottlenecks ? bottleneck(b, s, x, cin, planes, stride)
                      : basic_block(b, s, x, cin, planes, stride);
      cin = bottlenecks ? planes * 4 : planes;
    }
  }
  x = b.global_pool_flatten("avgpool", x);
  Value* logits = b.linear_gemm("fc", x, cin, 1000, "output");
  return b.finish({logits});
}

}  // namespace kiln::zoo
