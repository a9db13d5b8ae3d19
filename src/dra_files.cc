// dra_files.cc — CDI specs and KEP-5304 device-metadata files of a prepared claim (see
// dra_files.h).
//
// Reads (never writes):
//   /dev/iommu                                     iommufd is available
//   /sys/bus/pci/devices/<addr>/vfio-dev/vfioN     the function's VFIO device cdev (Linux 6.2+,
//   /sys/bus/mdev/devices/<uuid>/vfio-dev/vfioN    CONFIG_VFIO_DEVICE_CDEV);
//   /dev/vfio/devices/vfioN
#include "dra_files.h"

#include <algorithm>
#include <cctype>

#include "pci_device.h"

namespace hostpass {

namespace {

using json = nlohmann::json;

// "vfioN" entries of <dir>/vfio-dev whose /dev/vfio/devices/vfioN exists.
void add_vfio_cdevs(Host& host, const std::string& dev_dir, std::vector<std::string>& nodes) {
  auto entries = host.list_dir(dev_dir + "/vfio-dev");
  if (!entries.ok()) return;
  for (const std::string& e : *entries) {
    if (e.rfind("vfio", 0) != 0) continue;
    const std::string node = "/dev/vfio/devices/" + e;
    if (host.exists(node)) nodes.push_back(node);
  }
}

std::string env_name(const std::string& device_name) {
  std::string s = "HOSTPASS_DEVICE_";
  for (char c : device_name)
    s += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

std::string cdi_min_version(const json& spec) {
  std::vector<const json*> edits;
  if (spec.contains("containerEdits")) edits.push_back(&spec["containerEdits"]);
  bool v050 = false, v060 = spec.contains("annotations") && !spec["annotations"].empty();
  bool v070 = false, v040 = false;
  static const json kNone = json::array();
  const json& devices = spec.contains("devices") ? spec["devices"] : kNone;
  for (const json& d : devices) {
    if (!d.is_object()) continue;
    const std::string name = d.value("name", "");
    if (!name.empty() && !is_letter(name[0])) v050 = true;
    if (d.contains("annotations") && !d["annotations"].empty()) v060 = true;
    if (d.contains("containerEdits")) edits.push_back(&d["containerEdits"]);
  }
  const std::string kind = spec.value("kind", "");
  if (auto slash = kind.find('/'); slash != std::string::npos)
    v060 |= kind.find('.', slash) != std::string::npos;
  for (const json* e : edits) {
    if (!e->is_object()) continue;
    for (const json& n : e->value("deviceNodes", json::array()))
      if (n.is_object() && !n.value("hostPath", "").empty()) v050 = true;
    for (const json& m : e->value("mounts", json::array()))
      if (m.is_object() && !m.value("type", "").empty()) v040 = true;
    if (e->contains("intelRdt") || !e->value("additionalGIDs", json::array()).empty()) v070 = true;
  }
  return v070 ? "0.7.0" : v060 ? "0.6.0" : v050 ? "0.5.0" : v040 ? "0.4.0" : "0.3.0";
}

Result<CdiSpecFile> device_cdi_spec(Host& host, const std::string& driver,
                                    const std::string& claim_uid,
                                    const std::vector<PreparedDevice>& devices) {
  CdiSpecFile f;
  const std::string kind = driver + "/vfio";
  f.path = std::string(kCdiDir) + "/" + driver + "-" + claim_uid + ".json";
  const bool iommufd = host.exists("/dev/iommu");
  json devs = json::array();
  for (const PreparedDevice& p : devices) {
    const DraDevice& d = *p.device;
    if (!d.iommu_group)
      return invalid_input("device " + d.name + " has no IOMMU group: it cannot be given to a VM");
    std::vector<std::string> nodes = {"/dev/vfio/vfio",
                                      "/dev/vfio/" + std::to_string(*d.iommu_group)};
    std::string value;
    if (d.kind == ResourceKind::Mdev) {
      value = d.mdev_uuid;
      if (iommufd) add_vfio_cdevs(host, "/sys/bus/mdev/devices/" + d.mdev_uuid, nodes);
    } else {
      std::vector<std::string> addrs;
      for (const PciAddress& a : d.pci) {
        addrs.push_back(a.to_string());
        if (iommufd) add_vfio_cdevs(host, pci_device_dir(a), nodes);
      }
      value = join(addrs, ",");
    }
    if (iommufd && nodes.size() > 2) nodes.insert(nodes.begin() + 1, "/dev/iommu");
    json device_nodes = json::array();
    for (const std::string& n : nodes) device_nodes.push_back({{"path", n}});
    const std::string name = d.name + "-" + claim_uid;
    devs.push_back({{"name", name},
                    {"containerEdits",
                     {{"deviceNodes", device_nodes},
                      {"env", json::array({env_name(d.name) + "=" + value})}}}});
    f.ids.push_back(kind + "=" + name);
  }
  f.text = json({{"cdiVersion", kCdiVersion}, {"kind", kind}, {"devices", devs}}).dump(2) + "\n";
  return f;
}

std::string top_level_request(const std::string& request) {
  return request.substr(0, request.find('/'));
}

std::string metadata_request_dir(const ResourceClaim& claim, const std::string& request) {
  const std::string r = top_level_request(request);
  if (claim.pod_claim_name) return "resourceclaimtemplates/" + *claim.pod_claim_name + "/" + r;
  return "resourceclaims/" + claim.name + "/" + r;
}

std::string metadata_container_path(const ResourceClaim& claim, const std::string& request,
                                    const std::string& driver) {
  return std::string(kDeviceMetadataDir) + "/" + metadata_request_dir(claim, request) + "/" +
         driver + "-metadata.json";
}

std::string metadata_claim_dir(const ResourceClaim& claim, const std::string& driver) {
  return std::string(kKubeletPluginsDir) + "/" + driver + "/metadata/" + claim.uid;
}

std::string metadata_host_path(const ResourceClaim& claim, const std::string& request,
                               const std::string& driver) {
  return metadata_claim_dir(claim, driver) + "/" + top_level_request(request) + "/" + driver +
         "-metadata.json";
}

std::vector<MetadataFile> metadata_files(const ResourceClaim& claim, const std::string& driver,
                                         int64_t generation,
                                         const std::vector<PreparedDevice>& devices) {
  // Top-level requests in first-seen order; in each, the full request names in first-seen order.
  std::vector<std::string> tops;
  for (const PreparedDevice& p : devices) {
    const std::string t = top_level_request(p.request);
    if (std::find(tops.begin(), tops.end(), t) == tops.end()) tops.push_back(t);
  }
  std::vector<MetadataFile> out;
  for (const std::string& top : tops) {
    std::vector<std::string> names;
    for (const PreparedDevice& p : devices)
      if (top_level_request(p.request) == top &&
          std::find(names.begin(), names.end(), p.request) == names.end())
        names.push_back(p.request);
    json requests = json::array();
    for (const std::string& n : names) {
      json devs = json::array();
      for (const PreparedDevice& p : devices) {
        if (p.request != n) continue;
        json d = dra_device_json(*p.device);
        devs.push_back({{"driver", driver},
                        {"pool", p.pool},
                        {"name", d["name"]},
                        {"attributes", d["attributes"]}});
      }
      requests.push_back({{"name", n}, {"devices", devs}});
    }
    json meta = {{"apiVersion", kDeviceMetadataApiVersion},
                 {"kind", "DeviceMetadata"},
                 {"metadata",
                  {{"name", claim.name},
                   {"namespace", claim.namespace_},
                   {"uid", claim.uid},
                   {"generation", generation}}}};
    if (claim.pod_claim_name) meta["podClaimName"] = *claim.pod_claim_name;
    meta["requests"] = requests;
    out.push_back({metadata_host_path(claim, top, driver),
                   metadata_container_path(claim, top, driver), meta.dump() + "\n"});
  }
  return out;
}

CdiSpecFile metadata_cdi_spec(const std::string& driver, const std::string& claim_uid,
                              const std::vector<MetadataFile>& files) {
  CdiSpecFile f;
  const std::string kind = driver + "/metadata";
  f.path = std::string(kCdiDir) + "/" + driver + "-metadata-" + claim_uid + ".json";
  json mounts = json::array();
  for (const MetadataFile& m : files)
    mounts.push_back({{"hostPath", m.host_path},
                      {"containerPath", m.container_path},
                      {"options", json::array({"ro", "bind"})}});
  const std::string name = "claim-" + claim_uid;
  json spec = {
      {"cdiVersion", kCdiVersion},
      {"kind", kind},
      {"devices", json::array({{{"name", name}, {"containerEdits", {{"mounts", mounts}}}}})}};
  f.text = spec.dump(2) + "\n";
  f.ids.push_back(kind + "=" + name);
  return f;
}

}  // namespace hostpass
