// mdev.cc — mediated device types and instances from sysfs, create/remove through the mdev
// core's attributes, and mdevctl's definition files. See mdev.h for the contracts.
#include "mdev.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace hostpass {

namespace {

std::string read_trimmed(Host& host, const std::string& path, bool* present = nullptr) {
  auto text = host.read_file(path, 4096);
  if (present) *present = text.ok();
  return text.ok() ? std::string(trim(*text)) : std::string();
}

std::string types_dir(const std::string& parent) {
  return join_path(join_path(kMdevBusClassDir, parent), "mdev_supported_types");
}

Result<MdevType> read_type(Host& host, const std::string& parent, const std::string& id) {
  std::string dir = join_path(types_dir(parent), id);
  MdevType t;
  t.parent = parent;
  t.id = id;
  t.name = read_trimmed(host, join_path(dir, "name"));
  t.description = read_trimmed(host, join_path(dir, "description"));
  bool has_api = false;
  t.device_api = read_trimmed(host, join_path(dir, "device_api"), &has_api);
  if (!has_api) t.warnings.push_back("device_api is missing");
  auto avail = host.read_file(join_path(dir, "available_instances"), 64);
  if (!avail.ok()) return avail.error().wrap("type " + id + " of " + parent);
  auto n = parse_sysfs_count(*avail);
  if (!n)
    return io_error("type " + id + " of " + parent + ": available_instances is not a number: '" +
                    std::string(trim(*avail).substr(0, 32)) + "'");
  t.available_instances = *n;
  return t;
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

// ---- types and instances ----

Result<std::vector<MdevType>> list_mdev_types(Host& host) {
  return list_mdev_types(host, nullptr);
}

Result<std::vector<MdevType>> list_mdev_types(Host& host, std::vector<std::string>* warnings) {
  std::vector<MdevType> types;
  if (!host.exists(kMdevBusClassDir)) return types;  // no mdev-capable parent (or no mdev module)
  auto parents = host.list_dir(kMdevBusClassDir);
  if (!parents.ok()) return parents.error().wrap("cannot list mediated device parents");
  for (const std::string& parent : *parents) {
    auto ids = host.list_dir(types_dir(parent));
    if (!ids.ok()) {
      if (warnings) warnings->push_back("parent " + parent + ": " + ids.error().message);
      continue;
    }
    for (const std::string& id : *ids) {
      auto t = read_type(host, parent, id);
      if (!t.ok()) {
        if (warnings) warnings->push_back(t.error().message + "; type skipped");
        continue;
      }
      if (warnings)
        for (const std::string& w : t->warnings)
          warnings->push_back("type " + id + " of " + parent + ": " + w);
      types.push_back(std::move(*t));
    }
  }
  std::sort(types.begin(), types.end(), [](const MdevType& a, const MdevType& b) {
    return std::tie(a.parent, a.id) < std::tie(b.parent, b.id);
  });
  return types;
}

Result<std::vector<MdevInstance>> list_mdev_instances(Host& host) {
  return list_mdev_instances(host, nullptr);
}

namespace {

// Reads one instance from /sys/bus/mdev/devices/<uuid>: the link's target gives the parent
// (the directory holding the instance), the mdev_type link the type.
Result<MdevInstance> read_instance(Host& host, const std::string& uuid) {
  std::string link = join_path(kMdevDevicesDir, uuid);
  auto target = host.read_link(link);
  if (!target.ok()) return target.error().wrap("mediated device " + uuid);
  MdevInstance m;
  m.uuid = uuid;
  m.sysfs_path = resolve_link(link, *target);
  m.parent = base_name(dir_name(m.sysfs_path));
  auto type = host.read_link(join_path(link, "mdev_type"));
  if (!type.ok()) return type.error().wrap("mediated device " + uuid + ": its type");
  m.type_id = base_name(*type);
  m.type_name = read_trimmed(host, join_path(join_path(link, "mdev_type"), "name"));
  return m;
}

}  // namespace

Result<std::vector<MdevInstance>> list_mdev_instances(Host& host,
                                                      std::vector<std::string>* warnings) {
  std::vector<MdevInstance> out;
  if (!host.exists(kMdevDevicesDir)) return out;
  auto uuids = host.list_dir(kMdevDevicesDir);
  if (!uuids.ok()) return uuids.error().wrap("cannot list mediated devices");
  for (const std::string& uuid : *uuids) {
    auto m = read_instance(host, uuid);
    if (!m.ok()) {
      if (warnings) warnings->push_back(m.error().message);
      continue;
    }
    out.push_back(std::move(*m));
  }
  std::sort(out.begin(), out.end(), [](const MdevInstance& a, const MdevInstance& b) {
    return std::tie(a.parent, a.uuid) < std::tie(b.parent, b.uuid);
  });
  return out;
}

// ---- UUIDs and names ----

Result<std::string> parse_mdev_uuid(std::string_view text) {
  auto bad = [&] {
    return invalid_input("invalid UUID '" + std::string(text.substr(0, 64)) +
                         "': expected 8-4-4-4-12 hex digits, as in "
                         "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
  };
  if (text.size() != 36) return bad();
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash) {
      if (out[i] != '-') return bad();
    } else {
      if (!is_hex_digit(out[i])) return bad();
      if (out[i] >= 'A' && out[i] <= 'F') out[i] = static_cast<char>(out[i] - 'A' + 'a');
    }
  }
  return out;
}

Result<std::string> random_mdev_uuid(Host& host) {
  auto text = host.read_file("/proc/sys/kernel/random/uuid", 64);
  if (!text.ok()) return text.error().wrap("cannot generate a UUID");
  auto uuid = parse_mdev_uuid(trim(*text));
  if (!uuid.ok()) return io_error("/proc/sys/kernel/random/uuid gave " + uuid.error().message);
  return uuid;
}

Status validate_mdev_parent_name(std::string_view parent) {
  if (parent.empty() || parent == "." || parent == ".." || parent.size() > 128 ||
      parent.find('/') != std::string_view::npos || parent.find('\0') != std::string_view::npos)
    return invalid_input("invalid parent '" + std::string(parent.substr(0, 64)) +
                         "': expected a device name as in /sys/class/mdev_bus, e.g. 0000:01:00.0");
  return ok_status();
}

std::string kubevirt_mdev_name(std::string_view name) {
  std::string s(name);
  std::replace(s.begin(), s.end(), ' ', '_');
  return std::string(trim(s));
}

bool mdev_type_matches(const MdevType& type, std::string_view desired) {
  return desired == type.id || (!type.name.empty() && desired == kubevirt_mdev_name(type.name));
}

bool mdev_name_selector_matches(const MdevType& type, std::string_view selector) {
  std::string s = kubevirt_mdev_name(selector);
  return s == type.id || (!type.name.empty() && s == kubevirt_mdev_name(type.name));
}

// ---- create / remove ----

Result<MdevInstance> create_mdev(Host& host, const MdevCreateRequest& req) {
  if (Status s = validate_mdev_parent_name(req.parent); !s.ok()) return s.error();
  if (req.type.empty() || req.type.find('/') != std::string::npos || req.type == "." ||
      req.type == "..")
    return invalid_input("invalid type '" + req.type + "': expected a type id such as nvidia-222");
  std::string uuid;
  if (req.uuid) {
    auto u = parse_mdev_uuid(*req.uuid);
    if (!u.ok()) return u.error();
    uuid = *u;
  }
  if (!host.exists(join_path(kMdevBusClassDir, req.parent)))
    return not_found("no mediated device parent " + req.parent + " (not in " + kMdevBusClassDir +
                     "; see `hostpass mdev types`)");
  auto ids = host.list_dir(types_dir(req.parent));
  if (!ids.ok()) return ids.error().wrap("parent " + req.parent);
  std::sort(ids->begin(), ids->end());
  // The type by id first; else by name, as `mdev types` shows it or as KubeVirt writes it.
  std::optional<MdevType> type;
  std::vector<MdevType> by_name;
  for (const std::string& id : *ids) {
    auto t = read_type(host, req.parent, id);
    if (!t.ok()) continue;
    if (id == req.type) {
      type = *t;
      break;
    }
    if (!t->name.empty() && (t->name == req.type || kubevirt_mdev_name(t->name) == req.type))
      by_name.push_back(*t);
  }
  if (!type) {
    if (by_name.size() == 1) {
      type = by_name[0];
    } else if (by_name.size() > 1) {
      std::string list;
      for (const MdevType& t : by_name) list += (list.empty() ? "" : ", ") + t.id;
      return invalid_input("type name '" + req.type + "' is ambiguous on " + req.parent + " (" +
                           list + "); give the type id");
    } else {
      std::string list;
      for (const std::string& id : *ids) list += (list.empty() ? "" : ", ") + id;
      return not_found("parent " + req.parent + " has no mediated device type '" + req.type +
                       "' (it has: " + (list.empty() ? "none" : list) + ")");
    }
  }
  if (type->available_instances <= 0)
    return refused("no available instances of " + type->id + " (" + type->name + ") on " +
                   req.parent + ": remove an instance first (`hostpass mdev list`)");
  if (uuid.empty()) {
    auto u = random_mdev_uuid(host);
    if (!u.ok()) return u.error();
    uuid = *u;
  }
  if (host.exists(join_path(kMdevDevicesDir, uuid))) {
    auto existing = read_instance(host, uuid);
    std::string where =
        existing.ok() ? " (type " + existing->type_id + " on " + existing->parent + ")" : "";
    return refused("mediated device " + uuid + " already exists" + where);
  }
  std::string create = join_path(join_path(types_dir(req.parent), type->id), "create");
  if (Status s = host.write_attribute(create, uuid); !s.ok())
    return s.error().wrap("creating " + type->id + " instance " + uuid + " on " + req.parent);
  // The mdev core registers the device before create's write returns; verify it, and that it
  // is the one we asked for.
  auto made = read_instance(host, uuid);
  if (!made.ok())
    return io_error("wrote " + uuid + " to " + create + " but " + join_path(kMdevDevicesDir, uuid) +
                    " did not appear: " + made.error().message);
  if (made->parent != req.parent || made->type_id != type->id)
    return io_error("mediated device " + uuid + " appeared as type " + made->type_id + " on " +
                    made->parent + ", not " + type->id + " on " + req.parent);
  return made;
}

Result<MdevInstance> remove_mdev(Host& host, std::string_view uuid_text) {
  auto uuid = parse_mdev_uuid(uuid_text);
  if (!uuid.ok()) return uuid.error();
  if (!host.exists(join_path(kMdevDevicesDir, *uuid)))
    return not_found("no mediated device " + *uuid + " (see `hostpass mdev list`)");
  auto m = read_instance(host, *uuid);
  if (!m.ok()) return m.error();
  std::string remove = join_path(join_path(kMdevDevicesDir, *uuid), "remove");
  if (Status s = host.write_attribute(remove, "1"); !s.ok())
    return s.error().wrap("removing mediated device " + *uuid +
                          " (a running VM may still hold it)");
  if (host.exists(join_path(kMdevDevicesDir, *uuid)))
    return io_error("wrote 1 to " + remove + " but the device is still there");
  return m;
}

// ---- mdevctl ----

std::string mdevctl_config_path(const MdevDefinition& d) {
  return join_path(join_path(kMdevctlConfigDir, d.parent), d.uuid);
}

std::string mdevctl_config_text(const MdevDefinition& d) {
  nlohmann::ordered_json j;
  j["mdev_type"] = d.type_id;
  j["start"] = d.auto_start ? "auto" : "manual";
  j["attrs"] = nlohmann::ordered_json::array();
  for (const auto& [k, v] : d.attrs) {
    nlohmann::ordered_json a;
    a[k] = v;
    j["attrs"].push_back(a);
  }
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<MdevDefinition> parse_mdevctl_config(std::string_view text, const std::string& parent,
                                            const std::string& uuid) {
  std::string where = std::string(kMdevctlConfigDir) + "/" + parent + "/" + uuid;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalid_input(where + ": not a JSON object");
  if (!j.contains("mdev_type") || !j["mdev_type"].is_string())
    return invalid_input(where + ": mdev_type missing or not a string");
  if (!j.contains("start") || !j["start"].is_string())
    return invalid_input(where + ": start missing or not a string");
  MdevDefinition d;
  d.parent = parent;
  d.uuid = uuid;
  d.type_id = j["mdev_type"].get<std::string>();
  d.auto_start = j["start"].get<std::string>() == "auto";  // mdevctl: anything else is manual
  if (j.contains("attrs") && !j["attrs"].is_null()) {
    if (!j["attrs"].is_array()) return invalid_input(where + ": attrs is not an array");
    for (const auto& a : j["attrs"]) {
      if (!a.is_object() || a.size() != 1)
        return invalid_input(where + ": each attribute must be an object with one field");
      auto it = a.begin();
      if (!it.value().is_string())
        return invalid_input(where + ": attribute " + it.key() + ": value must be a string");
      d.attrs.emplace_back(it.key(), it.value().get<std::string>());
    }
  }
  return d;
}

Status define_mdev(Host& host, const MdevDefinition& d) {
  if (Status s = validate_mdev_parent_name(d.parent); !s.ok()) return s;
  auto uuid = parse_mdev_uuid(d.uuid);
  if (!uuid.ok()) return uuid.error();
  if (Status s = host.replace_file(mdevctl_config_path(d), mdevctl_config_text(d)); !s.ok())
    return s.error().wrap("writing the mdevctl definition of " + d.uuid);
  return ok_status();
}

Result<bool> undefine_mdev(Host& host, std::string_view uuid_text) {
  auto uuid = parse_mdev_uuid(uuid_text);
  if (!uuid.ok()) return uuid.error();
  if (!host.exists(kMdevctlConfigDir)) return false;
  auto parents = host.list_dir(kMdevctlConfigDir);
  if (!parents.ok()) return parents.error();
  bool removed = false;
  for (const std::string& parent : *parents) {
    std::string path = join_path(join_path(kMdevctlConfigDir, parent), *uuid);
    if (!host.exists(path)) continue;
    if (Status s = host.remove_file(path); !s.ok()) return s.error();
    removed = true;
  }
  return removed;
}

Result<std::vector<MdevDefinition>> list_mdev_definitions(Host& host,
                                                          std::vector<std::string>* warnings) {
  std::vector<MdevDefinition> out;
  if (!host.exists(kMdevctlConfigDir)) return out;
  auto parents = host.list_dir(kMdevctlConfigDir);
  if (!parents.ok()) return parents.error();
  for (const std::string& parent : *parents) {
    std::string dir = join_path(kMdevctlConfigDir, parent);
    if (parent == "scripts.d" || !host.is_dir(dir)) continue;  // mdevctl's callout scripts
    auto files = host.list_dir(dir);
    if (!files.ok()) continue;
    for (const std::string& file : *files) {
      if (!parse_mdev_uuid(file).ok()) continue;  // mdevctl only reads UUID-named files
      auto text = host.read_file(join_path(dir, file), 1 << 16);
      if (!text.ok()) continue;
      auto d = parse_mdevctl_config(*text, parent, file);
      if (!d.ok()) {
        if (warnings) warnings->push_back(d.error().message);
        continue;
      }
      out.push_back(std::move(*d));
    }
  }
  std::sort(out.begin(), out.end(), [](const MdevDefinition& a, const MdevDefinition& b) {
    return std::tie(a.parent, a.uuid) < std::tie(b.parent, b.uuid);
  });
  return out;
}

}  // namespace hostpass
