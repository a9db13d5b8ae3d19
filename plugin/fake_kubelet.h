// fake_kubelet.h — test double of the kubelet's device manager, over the real v1beta1 gRPC API on
// Unix sockets in a scratch directory. Test and benchmark support only.
//
// Like the kubelet (pkg/kubelet/cm/devicemanager): serves Registration on <dir>/kubelet.sock,
// rejects versions other than "v1beta1", and on each Register dials <dir>/<endpoint>, asks
// GetDevicePluginOptions and keeps a ListAndWatch stream open per resource (a new registration
// of a resource replaces its stream). restart() does what a kubelet restart does to the
// directory: the old kubelet goes away, every file in the directory is deleted, a new
// kubelet.sock appears. Tests call Allocate and GetPreferredAllocation through it as the kubelet
// would at pod admission.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "device_plugin.h"
#include "result.h"

namespace hostpass::testing {

struct KubeletRegistration {
  std::string version, endpoint, resource_name;
  bool preferred_allocation_available = false;
};

struct KubeletDevice {
  std::string id, health;
  std::vector<int64_t> numa_nodes;
  bool operator==(const KubeletDevice&) const = default;
};

struct KubeletAllocation {
  std::map<std::string, std::string> envs;
  std::vector<DeviceNode> devices;
};

class FakeKubelet {
 public:
  explicit FakeKubelet(std::string dir);  // a real directory
  ~FakeKubelet();

  Status start();
  void stop();     // the kubelet goes away: streams end, kubelet.sock is removed
  void restart();  // stop(), delete every file in the directory, start()
  // The next `n` Register calls fail with UNAVAILABLE (to test back-off).
  void fail_next_registrations(int n);

  std::vector<KubeletRegistration> registrations() const;
  // Last list on the resource's current stream; nullopt before the first.
  std::optional<std::vector<KubeletDevice>> devices(const std::string& resource) const;
  size_t lists_received(const std::string& resource) const;  // on the current stream
  size_t streams_opened(const std::string& resource) const;
  bool stream_ended(const std::string& resource) const;  // the current one

  // Waits until `cond` holds, re-evaluating it on every change; false after `timeout`.
  bool wait_for(const std::function<bool()>& cond,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // As the kubelet calls them, on the endpoint of the resource's latest registration. Errors
  // carry the gRPC status: "NOT_FOUND: allocate ...".
  Result<KubeletAllocation> allocate(const std::string& resource,
                                     const std::vector<std::string>& ids);
  Result<std::vector<std::string>> preferred(const std::string& resource,
                                             const std::vector<std::string>& available,
                                             const std::vector<std::string>& must_include,
                                             int size);

  const std::string& dir() const { return dir_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string dir_;
};

}  // namespace hostpass::testing
