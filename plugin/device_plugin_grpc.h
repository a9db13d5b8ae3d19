// device_plugin_grpc.h — the gRPC adapter: one kubelet DevicePlugin server per resource, and the
// Registration call. The only place (with fake_kubelet.cc, its test double) where gRPC and
// protobuf types appear; this header shows none of them.
//
// Contract (proto/deviceplugin/v1beta1/api.proto, the kubelet's v1beta1 API):
//   DevicePlugin on a Unix socket in the device-plugins directory, served *before* Register:
//     GetDevicePluginOptions  pre_start_required=false, get_preferred_allocation_available=true
//     ListAndWatch            the full device list at once and again on every change; on
//                             removal of the resource an empty list, then the stream ends
//     GetPreferredAllocation  preferred_allocation() per container request
//     Allocate                allocate() per container request; errors map to NOT_FOUND
//                             (unknown ID), FAILED_PRECONDITION (unhealthy), INVALID_ARGUMENT
//     PreStartContainer       nothing to do (not requested), answers OK
//   Registration.Register on <dir>/kubelet.sock: version "v1beta1", endpoint = the socket's file
//   name, resource_name, options as above.
// The socket is chmod 0600 right after gRPC binds it (gRPC has no mode option; the directory is
// root's, so the moment between bind and chmod exposes nothing).
// Memory: the server holds the daemon's only copy of its resource's units (the daemon reads and
// changes them through read() and modify(), under the server's lock); ListAndWatch builds each
// response when it sends it, in a protobuf arena of mmap'd blocks that leave with it, and keeps
// none. gRPC's sync server is bounded to one completion
// queue and one or two polling threads; each open ListAndWatch stream holds one more thread
// (the kubelet keeps one per resource).
// Not here: when to start, stop, re-register (plugin_daemon.h); what to answer (device_plugin.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "device_plugin.h"
#include "kubevirt_inventory.h"
#include "result.h"

namespace hostpass {

class ResourceServer {
 public:
  // `log` receives one line per Allocate.
  ResourceServer(ResourceInventory resource, std::function<void(const std::string&)> log);
  ~ResourceServer();
  ResourceServer(const ResourceServer&) = delete;
  ResourceServer& operator=(const ResourceServer&) = delete;

  // Serves on `socket_path` (a real path, at most 107 bytes) with mode 0600.
  Status start(const std::string& socket_path);
  // Replaces the resource's units; open ListAndWatch streams send the new full list.
  void update(ResourceInventory resource);
  // Runs `fn` on the served resource under the server's lock (Allocate waits meanwhile); when it
  // returns true, open ListAndWatch streams send the new full list.
  void modify(const std::function<bool(ResourceInventory&)>& fn);
  // Runs `fn` on the served resource under the server's lock.
  void read(const std::function<void(const ResourceInventory&)>& fn) const;
  // Ends the streams (after an empty list when `removed`) and shuts the server down.
  void stop(bool removed);

  bool running() const;
  const std::string& socket_path() const { return socket_path_; }
  ResourceInventory snapshot() const;

 private:
  struct State;
  class Service;
  std::shared_ptr<State> state_;
  std::unique_ptr<Service> service_;
  struct ServerHolder;
  std::unique_ptr<ServerHolder> server_;
  std::string socket_path_;
};

// Registration.Register to the kubelet at `kubelet_socket` (a real path).
Status register_with_kubelet(const std::string& kubelet_socket, const std::string& endpoint,
                             const std::string& resource_name, std::chrono::milliseconds timeout);

}  // namespace hostpass
