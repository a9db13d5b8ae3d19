// device_plugin_grpc.cc — see device_plugin_grpc.h. Translates between the kubelet's v1beta1
// messages and device_plugin.h's plain structs; decides nothing itself.
#include "device_plugin_grpc.h"

#include <grpcpp/grpcpp.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <condition_variable>
#include <mutex>
#include <new>

#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace hostpass {

namespace pb = ::v1beta1;

struct ResourceServer::State {
  mutable std::mutex mu;
  std::condition_variable cv;
  ResourceInventory resource;
  uint64_t generation = 0;
  bool stopping = false;
  bool removed = false;
  std::function<void(const std::string&)> log;
};

struct ResourceServer::ServerHolder {
  std::unique_ptr<grpc::Server> server;
};

namespace {

grpc::Status to_grpc(const Error& e) {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  switch (e.kind) {
    case ErrorKind::NotFound:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case ErrorKind::InvalidInput:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case ErrorKind::Refused:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case ErrorKind::Io:
      code = grpc::StatusCode::INTERNAL;
      break;
    case ErrorKind::Unsupported:
      code = grpc::StatusCode::UNIMPLEMENTED;
      break;
  }
  return grpc::Status(code, e.message);
}

// Protobuf arena blocks: anonymous mappings of their own (mmap(2)), unmapped when the arena
// ends, so a list's memory leaves the process with it (glibc's free() keeps small chunks).
void* map_block(size_t n) {
  void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}
void unmap_block(void* p, size_t n) {
  ::munmap(p, n);
}

void fill_list(const ResourceInventory& r, pb::ListAndWatchResponse* out) {
  for (const DeviceEntry& d : device_list(r)) {
    pb::Device* dev = out->add_devices();
    dev->set_id(d.id);
    dev->set_health(d.healthy ? kDeviceHealthy : kDeviceUnhealthy);
    if (d.numa_node) dev->mutable_topology()->add_nodes()->set_id(*d.numa_node);
  }
}

}  // namespace

class ResourceServer::Service final : public pb::DevicePlugin::Service {
 public:
  explicit Service(std::shared_ptr<State> state) : state_(std::move(state)) {}

  grpc::Status GetDevicePluginOptions(grpc::ServerContext*, const pb::Empty*,
                                      pb::DevicePluginOptions* out) override {
    out->set_pre_start_required(false);
    out->set_get_preferred_allocation_available(true);
    return grpc::Status::OK;
  }

  grpc::Status ListAndWatch(grpc::ServerContext* ctx, const pb::Empty*,
                            grpc::ServerWriter<pb::ListAndWatchResponse>* writer) override {
    uint64_t sent = 0;
    bool first = true;
    for (;;) {
      // Each list is built for one write, in an arena whose blocks come straight from the
      // kernel and go back to it when the arena ends (see map_block): 2,500 devices are ~0.7 MiB
      // of messages, which the heap would otherwise keep after the write.
      google::protobuf::ArenaOptions options;
      options.start_block_size = 256 << 10;
      options.max_block_size = 1 << 20;
      options.block_alloc = map_block;
      options.block_dealloc = unmap_block;
      google::protobuf::Arena arena(options);
      auto* response = google::protobuf::Arena::CreateMessage<pb::ListAndWatchResponse>(&arena);
      {
        std::unique_lock lock(state_->mu);
        // The kubelet never cancels a healthy stream; the bounded wait only notices a client
        // that went away, so that Shutdown never waits on an abandoned stream.
        while (!first && state_->generation == sent && !state_->stopping && !ctx->IsCancelled())
          state_->cv.wait_for(lock, std::chrono::milliseconds(250));
        if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
        if (state_->stopping) {
          if (state_->removed) {
            lock.unlock();
            writer->Write(pb::ListAndWatchResponse());
          }
          return grpc::Status::OK;
        }
        sent = state_->generation;
        fill_list(state_->resource, response);
      }
      first = false;
      if (!writer->Write(*response)) return grpc::Status::CANCELLED;
    }
  }

  grpc::Status GetPreferredAllocation(grpc::ServerContext*,
                                      const pb::PreferredAllocationRequest* request,
                                      pb::PreferredAllocationResponse* out) override {
    std::lock_guard lock(state_->mu);
    for (const auto& c : request->container_requests()) {
      std::vector<std::string> available(c.available_deviceids().begin(),
                                         c.available_deviceids().end());
      std::vector<std::string> must(c.must_include_deviceids().begin(),
                                    c.must_include_deviceids().end());
      auto ids = preferred_allocation(state_->resource, available, must, c.allocation_size());
      if (!ids.ok()) return to_grpc(ids.error());
      auto* resp = out->add_container_responses();
      for (const std::string& id : *ids) resp->add_deviceids(id);
    }
    return grpc::Status::OK;
  }

  grpc::Status Allocate(grpc::ServerContext*, const pb::AllocateRequest* request,
                        pb::AllocateResponse* out) override {
    std::lock_guard lock(state_->mu);
    for (const auto& c : request->container_requests()) {
      std::vector<std::string> ids(c.devices_ids().begin(), c.devices_ids().end());
      auto a = allocate(state_->resource, ids);
      if (!a.ok()) {
        if (state_->log) state_->log("allocate refused: " + a.error().message);
        return to_grpc(a.error());
      }
      auto* resp = out->add_container_responses();
      for (const auto& [k, v] : a->envs) (*resp->mutable_envs())[k] = v;
      for (const DeviceNode& n : a->devices) {
        auto* spec = resp->add_devices();
        spec->set_container_path(n.container_path);
        spec->set_host_path(n.host_path);
        spec->set_permissions(n.permissions);
      }
      if (state_->log) {
        std::string line = "allocated";
        for (const auto& [k, v] : a->envs) line += " " + k + "=" + v;
        state_->log(line);
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status PreStartContainer(grpc::ServerContext*, const pb::PreStartContainerRequest*,
                                 pb::PreStartContainerResponse*) override {
    return grpc::Status::OK;
  }

 private:
  std::shared_ptr<State> state_;
};

ResourceServer::ResourceServer(ResourceInventory resource,
                               std::function<void(const std::string&)> log)
    : state_(std::make_shared<State>()) {
  state_->resource = std::move(resource);
  state_->log = std::move(log);
  service_ = std::make_unique<Service>(state_);
}

ResourceServer::~ResourceServer() {
  stop(false);
}

Status ResourceServer::start(const std::string& socket_path) {
  if (socket_path.size() > 107)
    return invalid_input("socket path " + socket_path + " is " +
                         std::to_string(socket_path.size()) +
                         " bytes; a Unix socket path holds at most 107: use a shorter "
                         "--plugin-dir");
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = false;
    state_->removed = false;
  }
  grpc::ServerBuilder builder;
  // Threads are most of what a server costs (a stack and, with glibc, a malloc arena each): one
  // completion queue and one idle polling thread (gRPC's default allows two). A long-lived
  // ListAndWatch holds its own thread on top, so a single kubelet stream plus an Allocate are
  // served at once; no thread cap (ResourceQuota::SetMaxThreads), since the sync server answers
  // RESOURCE_EXHAUSTED to calls beyond it.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 1);
  int port = 0;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service_.get());
  auto server = builder.BuildAndStart();
  if (!server) return io_error("cannot serve the device plugin on " + socket_path);
  if (::chmod(socket_path.c_str(), 0600) != 0) {
    server->Shutdown();
    return io_error("cannot make " + socket_path + " mode 0600");
  }
  server_ = std::make_unique<ServerHolder>();
  server_->server = std::move(server);
  socket_path_ = socket_path;
  return ok_status();
}

void ResourceServer::modify(const std::function<bool(ResourceInventory&)>& fn) {
  bool changed = false;
  {
    std::lock_guard lock(state_->mu);
    changed = fn(state_->resource);
    if (changed) ++state_->generation;
  }
  if (changed) state_->cv.notify_all();
}

void ResourceServer::read(const std::function<void(const ResourceInventory&)>& fn) const {
  std::lock_guard lock(state_->mu);
  fn(state_->resource);
}

void ResourceServer::update(ResourceInventory resource) {
  {
    std::lock_guard lock(state_->mu);
    state_->resource = std::move(resource);
    ++state_->generation;
  }
  state_->cv.notify_all();
}

void ResourceServer::stop(bool removed) {
  if (!server_) return;
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    state_->removed = removed;
  }
  state_->cv.notify_all();
  server_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->server->Wait();
  server_.reset();
}

bool ResourceServer::running() const {
  return server_ != nullptr;
}

ResourceInventory ResourceServer::snapshot() const {
  std::lock_guard lock(state_->mu);
  return state_->resource;
}

Status register_with_kubelet(const std::string& kubelet_socket, const std::string& endpoint,
                             const std::string& resource_name, std::chrono::milliseconds timeout) {
  auto channel = grpc::CreateChannel("unix:" + kubelet_socket, grpc::InsecureChannelCredentials());
  auto stub = pb::Registration::NewStub(channel);
  pb::RegisterRequest request;
  request.set_version(kDevicePluginApiVersion);
  request.set_endpoint(endpoint);
  request.set_resource_name(resource_name);
  request.mutable_options()->set_pre_start_required(false);
  request.mutable_options()->set_get_preferred_allocation_available(true);
  pb::Empty reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  grpc::Status s = stub->Register(&ctx, request, &reply);
  if (!s.ok())
    return io_error("registering " + resource_name + " with the kubelet at " + kubelet_socket +
                    " failed: " + s.error_message());
  return ok_status();
}

}  // namespace hostpass
