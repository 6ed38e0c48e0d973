// A small strict JSON parser for tests that check tools' JSON output (e.g. Chrome traces).
#pragma once

#include <cctype>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace kiln::test {

struct JsonValue {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  double number = 0;
  std::string text;                                        // String
  std::vector<JsonValue> items;                            // Array
  std::vector<std::pair<std::string, JsonValue>> members;  // Object
  const JsonValue* get(const std::string& key) const {
    for (const auto& [k, v] : members)
      if (k == key) return &v;
    return nullptr;
  }
};

namespace json_detail {
struct Parser {
  const std::string& s;
  size_t i = 0;
  void ws() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  }
  bool lit(const char* w) {
    const std::string t(w);
    if (s.compare(i, t.size(), t) != 0) return false;
    i += t.size();
    return true;
  }
  bool str(std::string* out) {
    if (i >= s.size() || s[i] != '"') return false;
    for (++i; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '"') {
        ++i;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        if (++i >= s.size()) return false;
        const char e = s[i];
        if (e == 'u') {
          if (i + 4 >= s.size()) return false;
          out->push_back('?');
          i += 4;
        } else if (std::string("\"\\/bfnrt").find(e) != std::string::npos) {
          out->push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        } else {
          return false;
        }
      } else {
        out->push_back(c);
      }
    }
    return false;
  }
  bool value(JsonValue* v) {
    ws();
    if (i >= s.size()) return false;
    const char c = s[i];
    if (c == '{') {
      v->kind = JsonValue::Object;
      ++i;
      ws();
      if (i < s.size() && s[i] == '}') return ++i, true;
      while (true) {
        ws();
        std::string key;
        if (!str(&key)) return false;
        ws();
        if (i >= s.size() || s[i++] != ':') return false;
        JsonValue member;
        if (!value(&member)) return false;
        v->members.emplace_back(std::move(key), std::move(member));
        ws();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        return i < s.size() && s[i++] == '}';
      }
    }
    if (c == '[') {
      v->kind = JsonValue::Array;
      ++i;
      ws();
      if (i < s.size() && s[i] == ']') return ++i, true;
      while (true) {
        JsonValue item;
        if (!value(&item)) return false;
        v->items.push_back(std::move(item));
        ws();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        return i < s.size() && s[i++] == ']';
      }
    }
    if (c == '"') {
      v->kind = JsonValue::String;
      return str(&v->text);
    }
    if (lit("true") || lit("false")) return v->kind = JsonValue::Bool, true;
    if (lit("null")) return true;
    const char* begin = s.c_str() + i;
    char* end = nullptr;
    v->number = std::strtod(begin, &end);
    if (end == begin) return false;
    v->kind = JsonValue::Number;
    i += static_cast<size_t>(end - begin);
    return true;
  }
};
}  // namespace json_detail

// True if `text` is one JSON value (and nothing else but whitespace).
inline bool parse_json(const std::string& text, JsonValue* out) {
  json_detail::Parser p{text};
  if (!p.value(out)) return false;
  p.ws();
  return p.i == text.size();
}

}  // namespace kiln::test
