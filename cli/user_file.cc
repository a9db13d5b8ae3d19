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

Result<std::string> read_user_file(const std::string& name, size_t max_bytes) {
  RealHost files("/");
  std::string path = user_file_path(name);
  if (files.is_dir(path)) return invalid_input("cannot read " + name + ": it is a directory");
  auto text = files.read_file(path, max_bytes);
  if (text.ok()) return text;
  if (text.error().kind == ErrorKind::NotFound)
    return invalid_input("cannot read " + name + ": No such file or directory");
  // RealHost says "cannot open <path>: <strerror>": keep the reason, name the file as typed.
  const std::string& m = text.error().message;
  size_t colon = m.rfind(": ");
  return invalid_input("cannot read " + name + ": " +
                       (colon == std::string::npos ? m : m.substr(colon + 2)));
}

Status replace_user_file(const std::string& name, const std::string& content) {
  RealHost files("/");
  return files.replace_file(user_file_path(name), content);
}

Result<Policy> load_user_policy(const std::string& name) {
  auto text = read_user_file(name, size_t{4} << 20);  // 4 MiB is far beyond any real CR
  if (!text.ok()) return text.error();
  return parse_policy(*text, name);
}

}  // namespace hostpass
