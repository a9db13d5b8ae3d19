// fake_kubelet.cc — see fake_kubelet.h.
#include "fake_kubelet.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>

#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace hostpass::testing {

namespace pb = ::v1beta1;

namespace {

const char* code_name(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    default:
      return "ERROR";
  }
}

}  // namespace

struct FakeKubelet::Impl {
  struct Stream {
    std::unique_ptr<grpc::ClientContext> ctx;
    std::thread reader;
  };
  struct PerResource {
    std::string endpoint;
    std::optional<std::vector<KubeletDevice>> devices;
    size_t lists = 0, streams = 0;
    bool ended = false;
    std::shared_ptr<Stream> stream;
  };

  class Registration final : public pb::Registration::Service {
   public:
    explicit Registration(Impl* impl) : impl_(impl) {}
    grpc::Status Register(grpc::ServerContext*, const pb::RegisterRequest* req,
                          pb::Empty*) override {
      return impl_->on_register(*req);
    }

   private:
    Impl* impl_;
  };

  explicit Impl(std::string d) : dir(std::move(d)), service(this) {}

  std::string dir;
  Registration service;
  std::unique_ptr<grpc::Server> server;
  mutable std::mutex mu;
  std::condition_variable cv;
  uint64_t gen = 0;
  int fail_next = 0;
  std::vector<KubeletRegistration> regs;
  std::map<std::string, PerResource> res;

  void changed() {
    ++gen;
    cv.notify_all();
  }

  // One connection per endpoint, kept, as the kubelet keeps its client per plugin.
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  std::shared_ptr<grpc::Channel> channel(const std::string& endpoint) {
    std::lock_guard lock(mu);
    auto& ch = channels[endpoint];
    if (!ch)
      ch = grpc::CreateChannel("unix:" + dir + "/" + endpoint, grpc::InsecureChannelCredentials());
    return ch;
  }

  grpc::Status on_register(const pb::RegisterRequest& req) {
    KubeletRegistration r{req.version(), req.endpoint(), req.resource_name(),
                          req.options().get_preferred_allocation_available()};
    std::shared_ptr<Stream> old;
    {
      std::lock_guard lock(mu);
      if (fail_next > 0) {
        --fail_next;
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake kubelet: told to fail");
      }
      regs.push_back(r);
      changed();
      if (r.version != kDevicePluginApiVersion)
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "unsupported device plugin API version " + r.version);
      old = res[r.resource_name].stream;
    }
    end_stream(old);
    // The kubelet opens the stream after Register returns; doing it from here, on another
    // thread, keeps the order the plugin sees the same.
    auto stream = std::make_shared<Stream>();
    stream->ctx = std::make_unique<grpc::ClientContext>();
    {
      std::lock_guard lock(mu);
      PerResource& p = res[r.resource_name];
      p.endpoint = r.endpoint;
      p.stream = stream;
      p.devices.reset();
      p.lists = 0;
      p.ended = false;
      ++p.streams;
      changed();
    }
    std::string name = r.resource_name;
    auto ch = channel(r.endpoint);
    stream->reader = std::thread([this, stream, name, ch] {
      auto stub = pb::DevicePlugin::NewStub(ch);
      {
        grpc::ClientContext octx;
        octx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        pb::DevicePluginOptions opts;
        stub->GetDevicePluginOptions(&octx, pb::Empty(), &opts);
      }
      auto reader = stub->ListAndWatch(stream->ctx.get(), pb::Empty());
      pb::ListAndWatchResponse resp;
      while (reader->Read(&resp)) {
        std::vector<KubeletDevice> list;
        for (const auto& d : resp.devices()) {
          KubeletDevice k{d.id(), d.health(), {}};
          for (const auto& n : d.topology().nodes()) k.numa_nodes.push_back(n.id());
          list.push_back(std::move(k));
        }
        std::lock_guard lock(mu);
        PerResource& p = res[name];
        if (p.stream != stream) continue;
        p.devices = std::move(list);
        ++p.lists;
        changed();
      }
      reader->Finish();
      std::lock_guard lock(mu);
      PerResource& p = res[name];
      if (p.stream == stream) p.ended = true;
      changed();
    });
    return grpc::Status::OK;
  }

  void end_stream(const std::shared_ptr<Stream>& s) {
    if (!s) return;
    s->ctx->TryCancel();
    if (s->reader.joinable()) s->reader.join();
  }

  void end_all_streams() {
    std::vector<std::shared_ptr<Stream>> all;
    {
      std::lock_guard lock(mu);
      for (auto& [name, p] : res)
        if (p.stream) all.push_back(p.stream);
    }
    for (auto& s : all) end_stream(s);
  }

  Result<PerResource> find(const std::string& resource) {
    std::lock_guard lock(mu);
    auto it = res.find(resource);
    if (it == res.end()) return not_found("fake kubelet: " + resource + " never registered");
    PerResource copy;
    copy.endpoint = it->second.endpoint;
    return copy;
  }
};

FakeKubelet::FakeKubelet(std::string dir)
    : impl_(std::make_unique<Impl>(dir)), dir_(std::move(dir)) {}

FakeKubelet::~FakeKubelet() {
  stop();
}

Status FakeKubelet::start() {
  std::filesystem::create_directories(dir_);
  grpc::ServerBuilder b;
  b.AddListeningPort("unix:" + dir_ + "/" + kKubeletSocketName, grpc::InsecureServerCredentials());
  b.RegisterService(&impl_->service);
  impl_->server = b.BuildAndStart();
  if (!impl_->server) return io_error("fake kubelet: cannot serve on " + dir_ + "/kubelet.sock");
  return ok_status();
}

void FakeKubelet::stop() {
  impl_->end_all_streams();
  if (impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    impl_->server->Wait();
    impl_->server.reset();
  }
  std::error_code ec;
  std::filesystem::remove(dir_ + "/" + kKubeletSocketName, ec);
}

void FakeKubelet::restart() {
  stop();
  {
    std::lock_guard lock(impl_->mu);
    impl_->channels.clear();
  }
  // devicemanager's Start: removeContents(socketdir) before serving kubelet.sock again.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec))
    std::filesystem::remove_all(e.path(), ec);
  Status s = start();
  (void)s;
}

void FakeKubelet::fail_next_registrations(int n) {
  std::lock_guard lock(impl_->mu);
  impl_->fail_next = n;
}

std::vector<KubeletRegistration> FakeKubelet::registrations() const {
  std::lock_guard lock(impl_->mu);
  return impl_->regs;
}

std::optional<std::vector<KubeletDevice>> FakeKubelet::devices(const std::string& resource) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->res.find(resource);
  if (it == impl_->res.end()) return std::nullopt;
  return it->second.devices;
}

size_t FakeKubelet::lists_received(const std::string& resource) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->res.find(resource);
  return it == impl_->res.end() ? 0 : it->second.lists;
}

size_t FakeKubelet::streams_opened(const std::string& resource) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->res.find(resource);
  return it == impl_->res.end() ? 0 : it->second.streams;
}

bool FakeKubelet::stream_ended(const std::string& resource) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->res.find(resource);
  return it != impl_->res.end() && it->second.ended;
}

bool FakeKubelet::wait_for(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    uint64_t g;
    {
      std::lock_guard lock(impl_->mu);
      g = impl_->gen;
    }
    if (cond()) return true;
    std::unique_lock lock(impl_->mu);
    if (!impl_->cv.wait_until(lock, deadline, [&] { return impl_->gen != g; })) {
      lock.unlock();
      return cond();
    }
  }
}

Result<KubeletAllocation> FakeKubelet::allocate(const std::string& resource,
                                                const std::vector<std::string>& ids) {
  auto p = impl_->find(resource);
  if (!p.ok()) return p.error();
  auto stub = pb::DevicePlugin::NewStub(impl_->channel(p->endpoint));
  pb::AllocateRequest req;
  auto* c = req.add_container_requests();
  for (const std::string& id : ids) c->add_devices_ids(id);
  pb::AllocateResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Status s = stub->Allocate(&ctx, req, &resp);
  if (!s.ok()) return io_error(std::string(code_name(s.error_code())) + ": " + s.error_message());
  if (resp.container_responses_size() != 1)
    return io_error("fake kubelet: expected one container response, got " +
                    std::to_string(resp.container_responses_size()));
  KubeletAllocation out;
  const auto& cr = resp.container_responses(0);
  for (const auto& [k, v] : cr.envs()) out.envs[k] = v;
  for (const auto& d : cr.devices())
    out.devices.push_back(DeviceNode{d.container_path(), d.host_path(), d.permissions()});
  return out;
}

Result<std::vector<std::string>> FakeKubelet::preferred(
    const std::string& resource, const std::vector<std::string>& available,
    const std::vector<std::string>& must_include, int size) {
  auto p = impl_->find(resource);
  if (!p.ok()) return p.error();
  auto stub = pb::DevicePlugin::NewStub(impl_->channel(p->endpoint));
  pb::PreferredAllocationRequest req;
  auto* c = req.add_container_requests();
  for (const std::string& id : available) c->add_available_deviceids(id);
  for (const std::string& id : must_include) c->add_must_include_deviceids(id);
  c->set_allocation_size(size);
  pb::PreferredAllocationResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Status s = stub->GetPreferredAllocation(&ctx, req, &resp);
  if (!s.ok()) return io_error(std::string(code_name(s.error_code())) + ": " + s.error_message());
  if (resp.container_responses_size() != 1) return io_error("fake kubelet: no container response");
  const auto& ids = resp.container_responses(0).deviceids();
  return std::vector<std::string>(ids.begin(), ids.end());
}

}  // namespace hostpass::testing
