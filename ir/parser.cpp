#include "ir/parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <type_traits>
#include <unordered_map>

#include "ir/graph.h"
#include "ir/infer.h"
#include "ir/verifier.h"

namespace kiln {

void fill_placeholder(Tensor& t) {
  dispatch_dtype(t.dtype(), "fill_placeholder", [&]<typename T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const int64_t k = i % 13;
      if constexpr (std::is_same_v<T, bool>) {
        p[i] = (i % 2) != 0;
      } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> ||
                           std::is_same_v<T, half> || std::is_same_v<T, bfloat16>) {
        p[i] = T(static_cast<float>(k - 6) / 8.0f);
      } else if constexpr (std::is_signed_v<T>) {
        p[i] = static_cast<T>(k - 6);
      } else {
        p[i] = static_cast<T>(k);
      }
    }
  });
}

namespace {

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}
bool is_name_char(char c) { return is_ident_char(c) || c == '-' || c == '/' || c == ':'; }
// Characters of a number or a bare scalar (1, -2.5e-3, inf, nan, true).
bool is_scalar_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-';
}

// A number as written; converted when the target type is known so floats parse exactly.
struct Scalar {
  std::string_view text;
  size_t pos;
  bool is_int() const {
    return text.find_first_of(".eEinfa") == std::string_view::npos;  // no '.', exponent, inf, nan
  }
};

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src), g_(std::make_unique<Graph>()) {}

  std::unique_ptr<Graph> parse() {
    expect_word("graph");
    ws();
    const size_t name_pos = pos_;
    g_->name = name();
    if (pos_ == name_pos) fail_at(name_pos, "a graph name");
    expect('(');
    expect_word("opset");
    ws();
    g_->opset = static_cast<int>(to_int<int32_t>(scalar("an opset number"), "an opset number"));
    expect(')');
    expect('{');
    for (;;) {
      ws();
      if (pos_ >= src_.size()) fail_at(pos_, "'}' closing the graph");
      if (src_[pos_] == '}') {
        ++pos_;
        break;
      }
      if (accept_word("input")) {
        parse_input();
      } else if (accept_word("const")) {
        parse_const();
      } else if (accept_word("output")) {
        g_->outputs.push_back(use_value());
      } else if (src_[pos_] == '%' || src_[pos_] == '_' || src_[pos_] == '=') {
        parse_node();
      } else {
        fail_at(pos_, "'input', 'const', 'output', a node or '}'");
      }
    }
    ws();
    if (pos_ < src_.size()) fail_at(pos_, "end of input after the graph");
    // A value used but never defined: report its first use.
    size_t first = std::string_view::npos;
    const Value* undefined = nullptr;
    for (const auto& [v, at] : pending_) {
      if (at < first) first = at, undefined = v;
    }
    if (undefined) fail_at(first, "a defined value", "undefined '%" + undefined->name() + "'");
    g_->topo_sort();
    verify_graph(*g_);
    return std::move(g_);
  }

 private:
  std::string_view src_;
  size_t pos_ = 0;
  std::unique_ptr<Graph> g_;
  std::unordered_map<Value*, size_t> pending_;           // used, not yet defined: first use
  std::unordered_map<const Value*, size_t> defined_at_;  // defined: position of definition

  // ---- errors
  std::pair<size_t, size_t> line_col(size_t at) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < src_.size(); ++i) {
      if (src_[i] == '\n') ++line, col = 1;
      else ++col;
    }
    return {line, col};
  }
  std::string found_at(size_t at) const {
    if (at >= src_.size()) return "end of input";
    if (src_[at] == '\n') return "end of line";
    size_t end = at;
    while (end < src_.size() && end - at < 32 && is_scalar_char(src_[end])) ++end;
    if (end == at) ++end;
    return "'" + std::string(src_.substr(at, end - at)) + "'";
  }
  [[noreturn]] void fail_at(size_t at, std::string_view expected, std::string found = {}) const {
    auto [line, col] = line_col(at);
    fail("line ", line, ", column ", col, ": expected ", expected, ", found ",
         found.empty() ? found_at(at) : found);
  }

  // ---- lexing
  void ws() {
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }
  bool accept(char c) {
    ws();
    if (pos_ < src_.size() && src_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail_at(pos_, std::string("'") + c + "'");
  }
  bool accept_word(std::string_view w) {
    ws();
    if (src_.substr(pos_, w.size()) != w) return false;
    if (pos_ + w.size() < src_.size() && is_ident_char(src_[pos_ + w.size()])) return false;
    pos_ += w.size();
    return true;
  }
  void expect_word(std::string_view w) {
    if (!accept_word(w)) fail_at(pos_, "'" + std::string(w) + "'");
  }
  std::string_view ident() {
    ws();
    const size_t start = pos_;
    while (pos_ < src_.size() && is_ident_char(src_[pos_])) ++pos_;
    return src_.substr(start, pos_ - start);
  }
  Scalar scalar(std::string_view what) {
    ws();
    const size_t start = pos_;
    while (pos_ < src_.size() && is_scalar_char(src_[pos_])) ++pos_;
    if (pos_ == start) fail_at(start, what);
    return {src_.substr(start, pos_ - start), start};
  }
  std::string quoted() {
    ++pos_;  // the opening '"'
    std::string s;
    for (;;) {
      if (pos_ >= src_.size() || src_[pos_] == '\n') fail_at(pos_, "'\"' closing the string");
      const char c = src_[pos_++];
      if (c == '"') return s;
      if (c != '\\') {
        s += c;
        continue;
      }
      const char e = pos_ < src_.size() ? src_[pos_++] : '\0';
      switch (e) {
        case '"': s += '"'; break;
        case '\\': s += '\\'; break;
        case 'n': s += '\n'; break;
        case 't': s += '\t'; break;
        case 'r': s += '\r'; break;
        case 'x': {
          unsigned v = 0;
          const char* end = src_.data() + std::min(pos_ + 2, src_.size());
          auto r = std::from_chars(src_.data() + pos_, end, v, 16);
          if (r.ptr != src_.data() + pos_ + 2) fail_at(pos_, "two hex digits after '\\x'");
          s += static_cast<char>(v);
          pos_ += 2;
          break;
        }
        default: fail_at(pos_ - 1, "an escape (\\\" \\\\ \\n \\t \\r \\xNN)");
      }
    }
  }
  // A bare or quoted name; a bare name's trailing ':' belongs to the syntax, not the name.
  std::string name() {
    if (pos_ < src_.size() && src_[pos_] == '"') return quoted();
    const size_t start = pos_;
    while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
    while (pos_ > start && src_[pos_ - 1] == ':') --pos_;
    return std::string(src_.substr(start, pos_ - start));
  }
  std::string value_name() {
    expect('%');
    const size_t at = pos_;
    std::string n = name();
    if (n.empty()) fail_at(at, "a value name after '%'");
    return n;
  }

  // ---- numbers
  template <typename I>
  I to_int(const Scalar& s, std::string_view what) const {
    I v{};
    auto r = std::from_chars(s.text.data(), s.text.data() + s.text.size(), v);
    if (r.ec != std::errc() || r.ptr != s.text.data() + s.text.size()) {
      fail_at(s.pos, what, "'" + std::string(s.text) + "'");
    }
    return v;
  }
  template <typename F>
  F to_float(const Scalar& s, std::string_view what) const {
    F v{};
    auto r = std::from_chars(s.text.data(), s.text.data() + s.text.size(), v);
    // Out-of-range (ec set) is an error too: the printer never writes such text.
    if (r.ec != std::errc() || r.ptr != s.text.data() + s.text.size()) {
      fail_at(s.pos, what, "'" + std::string(s.text) + "'");
    }
    return v;
  }
  // One element of a value list, converted to the tensor's C++ type with a range check.
  template <typename T>
  T element(const Scalar& s) const {
    const std::string what = cat("a ", dtype_name(dtype_of<T>::value), " value");
    if constexpr (std::is_same_v<T, bool>) {
      if (s.text == "true" || s.text == "1") return true;
      if (s.text == "false" || s.text == "0") return false;
      fail_at(s.pos, what, "'" + std::string(s.text) + "'");
    } else if constexpr (std::is_same_v<T, double>) {
      return to_float<double>(s, what);
    } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, half> ||
                         std::is_same_v<T, bfloat16>) {
      return T(to_float<float>(s, what));
    } else {
      // Parse in the element's own type: from_chars reports out-of-range values.
      return to_int<T>(s, what);
    }
  }

  // ---- types and values
  DType dtype() {
    ws();
    const size_t at = pos_;
    const std::string_view w = ident();
    DType t;
    if (w == "string") return DType::String;
    if (w == "undefined") return DType::Undefined;
    if (!dtype_from_name(w, &t)) fail_at(at, "a dtype (f16, bf16, f32, f64, i8..i64, u8..u64, bool)");
    return t;
  }
  ValueType type() {
    ValueType t;
    t.dtype = dtype();
    expect('[');
    if (accept('*')) {
      expect(']');
    } else {
      t.shape.rank_known = true;
      if (!accept(']')) {
        do {
          ws();
          const size_t at = pos_;
          if (accept('?')) {
            t.shape.dims.push_back(Dim::unknown());
          } else if (at < src_.size() &&
                     (std::isdigit(static_cast<unsigned char>(src_[at])) || src_[at] == '-')) {
            const int64_t v = to_int<int64_t>(scalar("a dimension"), "a dimension");
            if (v < 0) fail_at(at, "a dimension", "'" + std::to_string(v) + "'");
            t.shape.dims.push_back(Dim::of(v));
          } else {
            std::string sym = name();
            if (sym.empty()) fail_at(at, "a dimension (size, symbol or '?')");
            t.shape.dims.push_back(Dim::sym(std::move(sym)));
          }
        } while (accept(','));
        expect(']');
      }
    }
    // The quantization suffix is a summary (the scales are not printed): skip it.
    ws();
    if (src_.substr(pos_, 3) == "{q:") {
      const size_t close = src_.find('}', pos_);
      if (close == std::string_view::npos) fail_at(pos_, "'}' closing the quantization suffix");
      pos_ = close + 1;
    }
    return t;
  }
  Tensor tensor_of(const ValueType& t, size_t at, std::string_view what) {
    if (!t.shape.is_static()) fail_at(at, cat("a static shape for ", what), t.to_string());
    if (dtype_size(t.dtype) == 0) fail_at(at, cat("a numeric dtype for ", what), t.to_string());
    return Tensor(t.dtype, t.shape.static_dims());
  }
  // `= [v, ...]` if present, else the placeholder pattern.
  void values_into(Tensor& t) {
    if (!accept('=')) {
      fill_placeholder(t);
      return;
    }
    expect('[');
    const size_t open = pos_ - 1;
    std::vector<Scalar> items;
    if (!accept(']')) {
      do items.push_back(scalar("a number")); while (accept(','));
      expect(']');
    }
    if (static_cast<int64_t>(items.size()) != t.numel()) {
      fail_at(open, cat(t.numel(), " values for ", t.describe()), cat(items.size(), " values"));
    }
    dispatch_dtype(t.dtype(), "parse", [&]<typename T>() {
      for (size_t i = 0; i < items.size(); ++i) t.data<T>()[i] = element<T>(items[i]);
    });
  }

  // ---- values: definitions and uses (uses may come before the definition)
  Value* define_value(const std::string& n, size_t at) {
    Value* v = g_->find_value(n);
    if (v && !pending_.count(v)) {
      fail_at(at, "a new value name",
              cat("'%", n, "' already defined at line ", line_col(defined_at_[v]).first));
    }
    if (v) pending_.erase(v);
    else v = g_->add_value(n);
    defined_at_[v] = at;
    return v;
  }
  Value* use_value() {
    ws();
    const size_t at = pos_;
    const std::string n = value_name();
    if (Value* v = g_->find_value(n)) return v;
    Value* v = g_->add_value(n);
    pending_[v] = at;
    return v;
  }

  // ---- declarations
  void parse_input() {
    ws();
    const size_t at = pos_;
    Value* v = define_value(value_name(), at);
    expect(':');
    v->type = type();
    g_->inputs.push_back(v);
  }
  void parse_const() {
    ws();
    const size_t at = pos_;
    const std::string n = value_name();
    Value* v = g_->find_value(n);
    // An initializer that is also a graph input prints as both `input` and `const`.
    const bool is_input = v && !v->is_constant() &&
                          std::find(g_->inputs.begin(), g_->inputs.end(), v) != g_->inputs.end();
    if (!is_input) v = define_value(n, at);
    expect(':');
    ws();
    const size_t type_at = pos_;
    ValueType t = type();
    Tensor value = tensor_of(t, type_at, "a constant");
    values_into(value);
    v->constant = std::move(value);
    v->type = std::move(t);
  }
  Attribute attribute() {
    ws();
    const size_t at = pos_;
    if (at < src_.size() && src_[at] == '"') return Attribute::of_string(quoted());
    if (accept_word("tensor")) {
      expect('<');
      ws();
      const size_t type_at = pos_;
      const ValueType t = type();
      expect('>');
      Tensor value = tensor_of(t, type_at, "a tensor attribute");
      values_into(value);
      return Attribute::of_tensor(std::move(value));
    }
    if (accept('[')) {
      if (accept(']')) return Attribute::of_ints({});
      ws();
      if (pos_ < src_.size() && src_[pos_] == '"') {
        std::vector<std::string> v;
        do {
          ws();
          if (pos_ >= src_.size() || src_[pos_] != '"') fail_at(pos_, "a string");
          v.push_back(quoted());
        } while (accept(','));
        expect(']');
        return Attribute::of_strings(std::move(v));
      }
      std::vector<Scalar> items;
      bool all_int = true;
      do {
        items.push_back(scalar("a number"));
        all_int = all_int && items.back().is_int();
      } while (accept(','));
      expect(']');
      if (all_int) {
        std::vector<int64_t> v;
        for (const Scalar& s : items) v.push_back(to_int<int64_t>(s, "an integer"));
        return Attribute::of_ints(std::move(v));
      }
      std::vector<float> v;
      for (const Scalar& s : items) v.push_back(to_float<float>(s, "a number"));
      return Attribute::of_floats(std::move(v));
    }
    const std::string what = "an attribute value (number, string, list or tensor<...>)";
    if (at >= src_.size() || !is_scalar_char(src_[at])) fail_at(at, what);
    const Scalar s = scalar(what);
    if (s.text == "graph" || s.text == "graphs" || s.text == "tensors") {
      fail_at(at, what,
              "'" + std::string(s.text) + "' (subgraph and tensor-list attributes cannot be parsed)");
    }
    if (s.is_int()) return Attribute::of_int(to_int<int64_t>(s, "an integer"));
    return Attribute::of_float(to_float<float>(s, what));
  }
  void parse_node() {
    // Outputs: `%a, _, %b =`, or nothing before '=' for a node without outputs.
    std::vector<std::pair<std::string, size_t>> outs;  // name ("" = absent) and position
    ws();
    if (src_[pos_] != '=') {
      do {
        ws();
        const size_t at = pos_;
        if (accept_word("_")) outs.emplace_back("", at);
        else outs.emplace_back(value_name(), at);
      } while (accept(','));
    }
    expect('=');
    ws();
    const size_t op_at = pos_;
    const std::string_view op_text = ident();
    const std::optional<OpKind> op = op_from_name(op_text);
    if (!op) {
      fail_at(op_at, "an op name",
              op_text.empty() ? found_at(op_at) : "unknown op '" + std::string(op_text) + "'");
    }
    expect('(');
    std::vector<Value*> inputs;
    if (!accept(')')) {
      do inputs.push_back(accept_word("_") ? nullptr : use_value()); while (accept(','));
      expect(')');
    }
    Attributes attrs;
    if (accept('{')) {
      do {
        ws();
        const size_t key_at = pos_;
        const std::string key(ident());
        if (key.empty()) fail_at(key_at, "an attribute name");
        if (attrs.has(key)) fail_at(key_at, "a new attribute name", "'" + key + "' again");
        expect('=');
        attrs.set(key, attribute());
      } while (accept(','));
      expect('}');
    }
    std::vector<Value*> outputs;
    for (const auto& [n, at] : outs) outputs.push_back(n.empty() ? nullptr : define_value(n, at));
    if (accept(':')) {
      for (size_t i = 0; i < outputs.size(); ++i) {
        if (i) expect(',');
        ws();
        if (accept_word("_")) continue;
        const ValueType t = type();
        if (outputs[i]) outputs[i]->type = t;
      }
    }
    // `# name` runs to the end of the line.
    while (pos_ < src_.size() && (src_[pos_] == ' ' || src_[pos_] == '\t')) ++pos_;
    std::string node_name;
    if (pos_ < src_.size() && src_[pos_] == '#') {
      const size_t end = std::min(src_.find('\n', pos_), src_.size());
      std::string_view n = src_.substr(pos_ + 1, end - pos_ - 1);
      while (!n.empty() && std::isspace(static_cast<unsigned char>(n.front()))) n.remove_prefix(1);
      while (!n.empty() && std::isspace(static_cast<unsigned char>(n.back()))) n.remove_suffix(1);
      node_name = std::string(n);
      pos_ = end;
    }
    g_->add_node(*op, std::move(inputs), std::move(outputs), std::move(attrs),
                 std::move(node_name));
  }
};

}  // namespace

std::unique_ptr<Graph> parse_graph(std::string_view text, bool infer) {
  std::unique_ptr<Graph> g = Parser(text).parse();
  if (infer) infer_shapes(*g);
  return g;
}

}  // namespace kiln
