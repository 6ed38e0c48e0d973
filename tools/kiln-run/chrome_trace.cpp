#include "tools/kiln-run/chrome_trace.h"

#include <cstdio>
#include <fstream>

#include "ir/error.h"

namespace kiln::tools {

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string micros(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1000.0);
  return buf;
}

}  // namespace

std::string chrome_trace_json(const std::vector<TraceEvent>& events) {
  std::string s = "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  for (size_t i = 0; i < events.size(); ++i) {
    const TraceEvent& e = events[i];
    s += "  {\"name\": " + json_string(e.name.empty() ? e.op : e.name) +
         ", \"cat\": " + json_string(e.op) +
         ", \"ph\": \"X\", \"pid\": 1, \"tid\": 1, \"ts\": " + micros(e.start_ns) +
         ", \"dur\": " + micros(e.duration_ns) + ", \"args\": {\"op\": " + json_string(e.op) +
         ", \"symbol\": " + json_string(e.symbol) + "}}" + (i + 1 < events.size() ? ",\n" : "\n");
  }
  return s + "]}\n";
}

void write_chrome_trace(const std::filesystem::path& path, const std::vector<TraceEvent>& events) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) fail("cannot write profile '", path.string(), "'");
    out << chrome_trace_json(events);
    if (!out.flush()) fail("error writing profile '", path.string(), "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail("cannot write profile '", path.string(), "': ", ec.message());
}

}  // namespace kiln::tools
