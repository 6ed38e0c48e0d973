#include "passes/prune_spec.h"

#include <charconv>
#include <cmath>
#include <vector>

#include "ir/error.h"

namespace kiln {
namespace {

constexpr const char* kForms = "expected magnitude:R[:layer|:global], channel:R[:l1|:l2] or N:M";

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ':') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

double parse_ratio(std::string_view text, std::string_view spec) {
  double v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !std::isfinite(v))
    fail("--prune '", spec, "': '", text, "' is not a number (", kForms, ")");
  if (!(v > 0.0 && v < 1.0))
    fail("--prune '", spec, "': ratio ", text, " is out of range; it must be in (0, 1)");
  return v;
}

int parse_count(std::string_view text, std::string_view spec) {
  int v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size())
    fail("--prune '", spec, "': '", text, "' is not a count (", kForms, ")");
  return v;
}

}  // namespace

PruneSpec parse_prune_spec(std::string_view text) {
  const std::vector<std::string_view> p = split(text);
  PruneSpec s;
  if (p[0] == "magnitude" || p[0] == "channel") {
    s.kind = p[0] == "magnitude" ? PruneKind::Magnitude : PruneKind::Channel;
    if (p.size() < 2 || p.size() > 3) fail("--prune '", text, "': ", kForms);
    s.ratio = parse_ratio(p[1], text);
    if (p.size() == 3) {
      if (s.kind == PruneKind::Magnitude && (p[2] == "layer" || p[2] == "global")) {
        s.global = p[2] == "global";
      } else if (s.kind == PruneKind::Channel && (p[2] == "l1" || p[2] == "l2")) {
        s.l2 = p[2] == "l2";
      } else {
        fail("--prune '", text, "': unknown option '", p[2], "' (", kForms, ")");
      }
    }
    return s;
  }
  if (p.size() == 2 && !p[0].empty() && p[0][0] >= '0' && p[0][0] <= '9') {
    s.kind = PruneKind::NM;
    s.n = parse_count(p[0], text);
    s.m = parse_count(p[1], text);
    if (s.m < 2 || s.m > 64 || s.n < 1 || s.n >= s.m)
      fail("--prune '", text, "': N:M needs 1 <= N < M <= 64");
    return s;
  }
  fail("--prune '", text, "': ", kForms);
}

std::string prune_spec_text(const PruneSpec& s) {
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%g", s.ratio);
  switch (s.kind) {
    case PruneKind::Magnitude: return cat("magnitude:", ratio, s.global ? ":global" : "");
    case PruneKind::Channel: return cat("channel:", ratio, s.l2 ? ":l2" : "");
    case PruneKind::NM: return cat(s.n, ":", s.m);
  }
  return {};
}

PruneSpec prune_spec_for_pass(std::string_view ctx_spec, PruneKind kind) {
  PruneSpec s;
  s.kind = kind;
  if (ctx_spec.empty()) return s;
  s = parse_prune_spec(ctx_spec);
  if (s.kind != kind)
    fail(prune_pass_name(kind), ": the prune spec '", ctx_spec, "' is for ",
         prune_pass_name(s.kind));
  return s;
}

const char* prune_pass_name(PruneKind kind) {
  switch (kind) {
    case PruneKind::Magnitude: return "prune-magnitude";
    case PruneKind::Channel: return "prune-channel";
    case PruneKind::NM: return "prune-nm";
  }
  return "";
}

}  // namespace kiln
