// user_file.cc — see user_file.h.
#include "user_file.h"

#include <filesystem>

#include "host.h"

namespace hostpass {

std::string user_file_path(const std::string& name) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(name, ec);
  return ec ? name : normalize_path(p.string());
}

Result<std::string> read_user_file(const std::string& name) {
  RealHost files("/");
  auto text = files.read_file(user_file_path(name), 64 << 20);
  if (!text.ok()) return Error{text.error().kind, text.error().message};
  return text;
}

Status replace_user_file(const std::string& name, const std::string& content) {
  RealHost files("/");
  return files.replace_file(user_file_path(name), content);
}

}  // namespace hostpass
