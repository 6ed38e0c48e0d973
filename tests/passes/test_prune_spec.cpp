// The pruning spec parser: accepted spellings and one-line errors for everything else.
#include <gtest/gtest.h>

#include "ir/error.h"
#include "passes/prune_spec.h"

namespace kiln {
namespace {

TEST(PruneSpec, ParsesEachForm) {
  PruneSpec s = parse_prune_spec("magnitude:0.5");
  EXPECT_EQ(s.kind, PruneKind::Magnitude);
  EXPECT_DOUBLE_EQ(s.ratio, 0.5);
  EXPECT_FALSE(s.global);
  EXPECT_TRUE(parse_prune_spec("magnitude:0.25:global").global);
  s = parse_prune_spec("channel:0.75:l2");
  EXPECT_EQ(s.kind, PruneKind::Channel);
  EXPECT_DOUBLE_EQ(s.ratio, 0.75);
  EXPECT_TRUE(s.l2);
  s = parse_prune_spec("2:4");
  EXPECT_EQ(s.kind, PruneKind::NM);
  EXPECT_EQ(s.n, 2);
  EXPECT_EQ(s.m, 4);
  s = parse_prune_spec("1:8");
  EXPECT_EQ(s.n, 1);
  EXPECT_EQ(s.m, 8);
  EXPECT_EQ(prune_spec_text(parse_prune_spec("channel:0.5")), "channel:0.5");
  EXPECT_EQ(prune_spec_text(parse_prune_spec("magnitude:0.3:global")), "magnitude:0.3:global");
  EXPECT_STREQ(prune_pass_name(PruneKind::NM), "prune-nm");
}

TEST(PruneSpec, BadSpecsFailWithOneLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"magnitude:1.5", "out of range"}, {"magnitude:0", "out of range"},
      {"channel:1", "out of range"},     {"magnitude:-0.1", "out of range"},
      {"channel:abc", "not a number"},   {"magnitude", "expected magnitude:R"},
      {"channel:0.5:l3", "unknown option 'l3'"}, {"magnitude:0.5:l1", "unknown option"},
      {"4:2", "1 <= N < M"},             {"0:4", "1 <= N < M"},
      {"2:x", "not a count"},            {"2:4:1", "expected"},
      {"random:0.5", "expected"},        {"", "expected"},
      {"magnitude:nan", "not a number"}, {"2:128", "M <= 64"}};
  for (const auto& [spec, want] : cases) {
    try {
      parse_prune_spec(spec);
      ADD_FAILURE() << "'" << spec << "' was accepted";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(want), std::string::npos) << spec << ": " << msg;
      EXPECT_NE(msg.find("'" + spec + "'"), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
}

TEST(PruneSpec, PassRejectsASpecOfAnotherKind) {
  EXPECT_EQ(prune_spec_for_pass("", PruneKind::Channel).ratio, 0.5);
  EXPECT_EQ(prune_spec_for_pass("", PruneKind::NM).m, 4);
  EXPECT_DOUBLE_EQ(prune_spec_for_pass("channel:0.25", PruneKind::Channel).ratio, 0.25);
  try {
    prune_spec_for_pass("channel:0.5", PruneKind::Magnitude);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is for prune-channel"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln
