// dra_files.h — the files a prepared DRA claim leaves on the node: its CDI spec, KubeVirt's
// KEP-5304 device-metadata files, and the CDI spec that mounts them. Contents and paths only;
// writing them (atomically, through Host) is the daemon's.
//
// CDI (container-device-interface SPEC.md; the versions a field needs follow its
// MinimumRequiredVersion rules: mount `type` 0.4.0, a device node's `hostPath` or a device name
// not starting with a letter 0.5.0, annotations or a '.' in the kind's class 0.6.0, intelRdt or
// additionalGIDs 0.7.0). We write none of those, so cdiVersion is "0.3.0", which every CDI
// runtime reads. One spec file per claim in /var/run/cdi:
//   <driver>-<claimUID>.json           kind "<driver>/vfio", one CDI device per DRA device, named
//                                       "<device>-<claimUID>" (unique across claims), with
//                                       deviceNodes /dev/vfio/vfio and /dev/vfio/<group>, plus
//                                       /dev/iommu and /dev/vfio/devices/vfioN when the host has
//                                       them (iommufd: <sysfs dev>/vfio-dev/vfioN), and env
//                                       HOSTPASS_DEVICE_<NAME>=<PCI addresses | mdev UUID>
//   <driver>-metadata-<claimUID>.json  kind "<driver>/metadata", one device "claim-<claimUID>"
//                                       bind-mounting each request's metadata file read-only
// IDs returned to the kubelet are fully qualified: "<kind>=<name>".
//
// KEP-5304 device metadata (k8s.io/dynamic-resource-allocation/api/metadata; KubeVirt's
// virt-launcher reads it, pkg/dra): inside the container at
//   /var/run/kubernetes.io/dra-device-attributes/resourceclaims/<claimName>/<request>/<driver>-metadata.json
//   .../resourceclaimtemplates/<podClaimName>/<request>/...  for a claim made from a template
// where <request> is the top-level request (a subrequest's "/<sub>" dropped; requests[].name in
// the file keeps it). The file is a stream of DeviceMetadata objects, one per supported API
// version, newest first: we support metadata.resource.k8s.io/v1alpha1 only, so one object
//   {apiVersion, kind: DeviceMetadata, metadata{name, namespace, uid, generation},
//    podClaimName (template claims), requests[]{name, devices[]{driver, pool, name, attributes}}}
// with the attributes published in the ResourceSlice (KubeVirt takes mdevUUID, else
// resource.kubernetes.io/pciBusID). On the host the file lives in the driver's plugin data
// directory,
// /var/lib/kubelet/plugins/<driver>/metadata/<claimUID>/<request>/<driver>-metadata.json; the CDI
// mount's hostPath is that path on the host (never prefixed with --root).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dra_claim.h"
#include "dra_devices.h"
#include "host.h"

namespace hostpass {

inline constexpr const char* kCdiDir = "/var/run/cdi";
inline constexpr const char* kCdiVersion = "0.3.0";
inline constexpr const char* kDeviceMetadataDir = "/var/run/kubernetes.io/dra-device-attributes";
inline constexpr const char* kDeviceMetadataApiVersion = "metadata.resource.k8s.io/v1alpha1";
inline constexpr const char* kKubeletPluginsDir = "/var/lib/kubelet/plugins";

// One allocated device of a claim, with the request that got it.
struct PreparedDevice {
  std::string request;  // as in the claim's result ("gpu" or "gpu/t4")
  std::string pool;
  const DraDevice* device = nullptr;
};

struct CdiSpecFile {
  std::string path;              // a Host path under kCdiDir
  std::string text;              // the spec as written to `path` (JSON)
  std::vector<std::string> ids;  // fully qualified CDI device IDs, in device order
};

// The lowest cdiVersion a spec needs, by the rules above ("0.3.0" .. "0.7.0").
std::string cdi_min_version(const nlohmann::json& spec);

// The claim's device spec. Reads /dev/iommu and <device's sysfs dir>/vfio-dev through `host`.
// InvalidInput for a device without an IOMMU group (it cannot be opened through VFIO).
Result<CdiSpecFile> device_cdi_spec(Host& host, const std::string& driver,
                                    const std::string& claim_uid,
                                    const std::vector<PreparedDevice>& devices);

// "gpu/t4" → "gpu".
std::string top_level_request(const std::string& request);
// "resourceclaims/<name>/<request>" or "resourceclaimtemplates/<podClaimName>/<request>".
std::string metadata_request_dir(const ResourceClaim& claim, const std::string& request);
// The container's path of a request's metadata file (kDeviceMetadataDir/...).
std::string metadata_container_path(const ResourceClaim& claim, const std::string& request,
                                    const std::string& driver);
// The host's path of the same file (in the driver's plugin data directory).
std::string metadata_host_path(const ResourceClaim& claim, const std::string& request,
                               const std::string& driver);
// The claim's metadata directory on the host (removed whole at unprepare).
std::string metadata_claim_dir(const ResourceClaim& claim, const std::string& driver);

struct MetadataFile {
  std::string host_path;
  std::string container_path;
  std::string text;  // the DeviceMetadata stream
};

// One file per top-level request that got devices of this driver, in the claim's order; each
// DeviceMetadata has metadata.generation = `generation` (the caller raises it on every rewrite).
std::vector<MetadataFile> metadata_files(const ResourceClaim& claim, const std::string& driver,
                                         int64_t generation,
                                         const std::vector<PreparedDevice>& devices);

// The spec that mounts `files` read-only at their container paths.
CdiSpecFile metadata_cdi_spec(const std::string& driver, const std::string& claim_uid,
                              const std::vector<MetadataFile>& files);

}  // namespace hostpass
