// openshift_config.cc — see openshift_config.h. YAML is written with yaml-cpp's emitter, so
// quoting is always valid YAML; tests parse it back.
#include "openshift_config.h"

#include <yaml-cpp/yaml.h>

namespace hostpass {

Status validate_role(std::string_view role) {
  if (role.empty() || role.size() > 63)
    return invalid_input("invalid role '" + std::string(role) + "': expected 1 to 63 characters");
  for (char c : role)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return invalid_input("invalid role '" + std::string(role) +
                           "': a machine config pool name uses a-z, 0-9 and '-' (worker, master)");
  if (role.front() == '-' || role.back() == '-')
    return invalid_input("invalid role '" + std::string(role) + "': cannot start or end with '-'");
  return ok_status();
}

std::string data_url(std::string_view contents) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "data:,";
  for (unsigned char c : contents) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

namespace {

void emit_metadata(YAML::Emitter& e, const NodeConfig& c) {
  e << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << c.name;
  e << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "machineconfiguration.openshift.io/role" << YAML::Value << c.role;
  e << YAML::EndMap << YAML::EndMap;
}

}  // namespace

std::string render_butane(const NodeConfig& c) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "variant" << YAML::Value << "openshift";
  e << YAML::Key << "version" << YAML::Value << kButaneOpenShiftVersion;
  emit_metadata(e, c);
  if (!c.kernel_arguments.empty()) {
    e << YAML::Key << "openshift" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "kernel_arguments" << YAML::Value << YAML::BeginSeq;
    for (const std::string& a : c.kernel_arguments) e << a;
    e << YAML::EndSeq << YAML::EndMap;
  }
  if (!c.files.empty()) {
    e << YAML::Key << "storage" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
    for (const NodeFile& f : c.files) {
      e << YAML::BeginMap;
      e << YAML::Key << "path" << YAML::Value << f.path;
      e << YAML::Key << "mode" << YAML::Value << YAML::Oct << f.mode << YAML::Dec;
      e << YAML::Key << "overwrite" << YAML::Value << true;
      e << YAML::Key << "contents" << YAML::Value << YAML::BeginMap;
      e << YAML::Key << "inline" << YAML::Value << YAML::Literal << f.contents;
      e << YAML::EndMap << YAML::EndMap;
    }
    e << YAML::EndSeq << YAML::EndMap;
  }
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::string render_machine_config(const NodeConfig& c) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "apiVersion" << YAML::Value << "machineconfiguration.openshift.io/v1";
  e << YAML::Key << "kind" << YAML::Value << "MachineConfig";
  emit_metadata(e, c);
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "config" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "ignition" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "version" << YAML::Value << kIgnitionVersion << YAML::EndMap;
  if (!c.files.empty()) {
    e << YAML::Key << "storage" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
    for (const NodeFile& f : c.files) {
      e << YAML::BeginMap;
      e << YAML::Key << "path" << YAML::Value << f.path;
      e << YAML::Key << "mode" << YAML::Value << f.mode;  // decimal, as Ignition JSON has it
      e << YAML::Key << "overwrite" << YAML::Value << true;
      e << YAML::Key << "contents" << YAML::Value << YAML::BeginMap;
      e << YAML::Key << "source" << YAML::Value << data_url(f.contents);
      e << YAML::EndMap << YAML::EndMap;
    }
    e << YAML::EndSeq << YAML::EndMap;
  }
  e << YAML::EndMap;  // config
  if (!c.kernel_arguments.empty()) {
    e << YAML::Key << "kernelArguments" << YAML::Value << YAML::BeginSeq;
    for (const std::string& a : c.kernel_arguments) e << a;
    e << YAML::EndSeq;
  }
  e << YAML::EndMap << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace hostpass
