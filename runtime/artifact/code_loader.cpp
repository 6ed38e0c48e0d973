#include "runtime/artifact/code_loader.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "ir/error.h"

namespace kiln::artifact {

namespace {

bool write_all(int fd, const uint8_t* data, uint64_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<uint64_t>(n);
  }
  return true;
}

std::string dl_error() {
  const char* e = dlerror();
  return e ? e : "unknown dlopen error";
}

void* open_from_memfd(const uint8_t* data, uint64_t size, std::string* error) {
#ifdef MFD_CLOEXEC
  const int fd = ::memfd_create("kiln-code", MFD_CLOEXEC);
  if (fd < 0) {
    *error = std::string("memfd_create: ") + std::strerror(errno);
    return nullptr;
  }
  void* handle = nullptr;
  if (write_all(fd, data, size)) {
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) *error = dl_error();
  } else {
    *error = std::string("writing the memory file: ") + std::strerror(errno);
  }
  ::close(fd);
  return handle;
#else
  (void)data;
  (void)size;
  *error = "memfd_create is not available";
  return nullptr;
#endif
}

void* open_from_temp_file(const uint8_t* data, uint64_t size, std::string* error) {
  std::error_code ec;
  std::string dir = std::filesystem::temp_directory_path(ec).string();
  if (ec) dir = "/tmp";
  std::string path = dir + "/kiln-code-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) {
    *error = "cannot create a temporary file in " + dir + ": " + std::strerror(errno);
    return nullptr;
  }
  void* handle = nullptr;
  if (write_all(fd, data, size)) {
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) *error = dl_error();
  } else {
    *error = "writing " + path + ": " + std::strerror(errno);
  }
  ::close(fd);
  ::unlink(path.c_str());
  return handle;
}

}  // namespace

CodeModule::CodeModule(const uint8_t* data, uint64_t size, const std::string& what) : what_(what) {
  std::string memfd_error, file_error;
  handle_ = open_from_memfd(data, size, &memfd_error);
  // Any memfd failure (no memfd_create, /proc not mounted, noexec) falls back to a file; the
  // file's error is the one reported, since it is about the object itself when both fail.
  if (!handle_) handle_ = open_from_temp_file(data, size, &file_error);
  if (!handle_) {
    fail(what, ": cannot load the CODE section: ", file_error.empty() ? memfd_error : file_error);
  }
  const auto* version =
      static_cast<const uint32_t*>(dlsym(handle_, KILN_KERNEL_ABI_VERSION_SYMBOL));
  if (!version || *version != KILN_KERNEL_ABI_VERSION) {
    const int64_t found = version ? static_cast<int64_t>(*version) : -1;
    dlclose(handle_);
    handle_ = nullptr;
    if (found < 0) fail(what, ": CODE section does not export ", KILN_KERNEL_ABI_VERSION_SYMBOL);
    fail_unsupported(what, ": CODE section implements kernel ABI ", found,
                     ", this runtime implements ", KILN_KERNEL_ABI_VERSION);
  }
}

CodeModule::~CodeModule() {
  if (handle_) dlclose(handle_);
}

kiln_kernel_fn CodeModule::kernel(const std::string& symbol) const {
  void* p = dlsym(handle_, symbol.c_str());
  if (!p) fail(what_, ": CODE section does not export kernel '", symbol, "'");
  return reinterpret_cast<kiln_kernel_fn>(p);
}

}  // namespace kiln::artifact
