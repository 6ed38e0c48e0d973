// Kiln's one error type: a single line that says what, where and why.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace kiln {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// Raised when an op, dtype or opset is valid ONNX that Kiln does not handle (vs. malformed input).
class Unsupported : public Error {
 public:
  explicit Unsupported(const std::string& msg) : Error(msg) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(cat(args...));
}

template <typename... Args>
[[noreturn]] void fail_unsupported(const Args&... args) {
  throw Unsupported(cat(args...));
}

#define KILN_CHECK(cond, ...)                 \
  do {                                        \
    if (!(cond)) ::kiln::fail(__VA_ARGS__);   \
  } while (0)

}  // namespace kiln
