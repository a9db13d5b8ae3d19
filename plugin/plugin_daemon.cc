// plugin_daemon.cc — see plugin_daemon.h. One thread runs the loop (start() and run()); gRPC
// threads and the loop share each ResourceServer's state (the units), under its lock.
#include "plugin_daemon.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <malloc.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string_view>

#include "device_plugin.h"
#include "device_plugin_grpc.h"
#include "device_plugin_uevent.h"

namespace hostpass {

namespace {

using Clock = std::chrono::steady_clock;

struct Resource {
  // The units and their health live in the server only (one copy a node): read() and modify().
  std::unique_ptr<ResourceServer> server;
  std::string socket_name;
  bool registered = false;
  bool waiting_logged = false;
  Clock::time_point next_attempt;
  std::chrono::milliseconds backoff{0};
};

// statfs(2) f_type of sysfs (include/uapi/linux/magic.h SYSFS_MAGIC).
bool is_sysfs(const std::string& path) {
  struct statfs st;
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == 0x62656572;
}

std::string describe(const Resource& r) {
  std::string out;
  r.server->read([&](const ResourceInventory& inv) { out = describe_resource(inv); });
  return out;
}

std::string unit_list(const ResourceInventory& r, const std::vector<size_t>& idx) {
  std::string s;
  for (size_t i : idx) {
    const Unit& u = r.units[i];
    if (!s.empty()) s += "; ";
    s += u.id + " is " + (u.healthy ? "Healthy" : "Unhealthy: " + u.health_reason);
  }
  return s;
}

}  // namespace

struct PluginDaemon::Impl {
  Impl(Host& h, PluginDaemonOptions o) : host(h), opt(std::move(o)) {
    if (!opt.log)
      opt.log = [](const std::string& line) { std::cerr << "hostpass plugin: " << line << "\n"; };
    stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  }
  ~Impl() {
    for (auto& [name, r] : resources)
      if (r.server) r.server->stop(false);
    for (int fd : {inotify_fd, stop_fd, signal_fd, own_uevent_fd})
      if (fd >= 0) ::close(fd);
  }

  Host& host;
  PluginDaemonOptions opt;
  std::string dir_real;      // canonical real path of the device-plugins directory
  std::string kubelet_host;  // Host path of kubelet.sock
  int inotify_fd = -1, stop_fd = -1, signal_fd = -1;
  int uevent_fd = -1;      // kernel uevents (or the test's simulated kernel); -1: none
  int own_uevent_fd = -1;  // the netlink socket we opened, closed with us
  int plugin_wd = -1, policy_wd = -1;
  std::string policy_dir, policy_base;
  std::map<int, std::string> health_wds;  // wd → Host dir
  std::set<std::string> watched_dirs;
  std::map<std::string, Resource> resources;
  std::vector<std::string> order;  // served resource names, the HealthIndex's resource order
  HealthIndex index;
  mutable std::mutex names_mu;
  std::vector<std::string> names;                   // copy of `order` for served()
  std::set<std::string> missing_logged;             // find_served's reports since the last apply()
  std::map<std::string, std::string> empty_logged;  // resource → its last "0 devices" line

  // Every path in a log line in one form, the Host path (/var/lib/kubelet/device-plugins/...):
  // under --root the sockets' real directory (<root>/var/lib/..., canonicalized for sun_path)
  // is what gRPC and inotify are given and what their errors name.
  void log(std::string line) const {
    if (!dir_real.empty() && dir_real != opt.plugin_dir)
      for (size_t at = line.find(dir_real); at != std::string::npos;
           at = line.find(dir_real, at + opt.plugin_dir.size()))
        line.replace(at, dir_real.size(), opt.plugin_dir);
    opt.log(line);
  }

  // "intel.com/qat serves 0 devices: <why>", from the reasons the inventory recorded (each
  // matching device that is not usable, kubevirt_inventory.h Unusable), or the selectors that
  // matched nothing; "" when the resource has devices.
  static std::string empty_line(const ResourceInventory& inv) {
    if (!inv.units.empty()) return "";
    std::vector<std::string> why;
    for (const Unusable& u : inv.unusable)
      why.push_back(u.what + ": " + u.reason + (u.fix.empty() ? "" : " (fix: " + u.fix + ")"));
    if (why.empty())
      why.push_back("no device on this node matches " + (inv.selectors.empty()
                                                             ? std::string("its selectors")
                                                             : join(inv.selectors, ", ")));
    return inv.name + " serves 0 devices: " + join(why, "; ");
  }

  // The served resource `name`, or null when there is none (logged once a name until the next
  // apply(), not at every wake-up). apply() keeps `order`, the health index and `resources`
  // equal, and the loop relies on that; if a change ever breaks it, the cost is skipped actions on
  // one resource and a log line, not the daemon (whose death would take every device of the node
  // off the kubelet). `doing` says what was skipped.
  Resource* find_served(const std::string& name, const char* doing) {
    auto it = resources.find(name);
    if (it != resources.end() && it->second.server) return &it->second;
    if (missing_logged.insert(name).second)
      log(std::string("internal error: ") + doing + ": " + name +
          " is in the serving order but not served; skipped until the next policy reload");
    return nullptr;
  }

  std::string socket_host_path(const std::string& name) const {
    return join_path(opt.plugin_dir, name);
  }
  std::string socket_real_path(const std::string& name) const { return dir_real + "/" + name; }

  Status watch_plugin_dir() {
    plugin_wd = ::inotify_add_watch(inotify_fd, dir_real.c_str(),
                                    IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM);
    if (plugin_wd < 0)
      return io_error("cannot watch " + opt.plugin_dir + " with inotify: " + std::strerror(errno));
    return ok_status();
  }

  void watch_health_dirs() {
    // Built from the servers' own copies, one at a time: no second copy of the units.
    index.clear();
    std::vector<std::string> dirs;
    for (size_t i = 0; i < order.size(); ++i)
      if (Resource* r = find_served(order[i], "watching its health"))
        r->server->read([&](const ResourceInventory& inv) {
          index.add(i, inv);
          add_health_watch_dirs(inv, dirs);
        });
    index.seal();
    for (const std::string& dir : dirs) {
      if (watched_dirs.contains(dir)) continue;
      std::string real = host.resolve(dir);
      int wd = ::inotify_add_watch(inotify_fd, real.c_str(),
                                   IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM);
      if (wd < 0) {
        // /sys/bus/mdev/devices exists only once mdev is loaded, /dev/bus/usb/BBB only with
        // the bus: a unit there is already reported unhealthy by its own check.
        log("not watching " + dir + ": " + std::strerror(errno));
        continue;
      }
      watched_dirs.insert(dir);
      health_wds[wd] = dir;
    }
  }

  void publish_names() {
    std::lock_guard lock(names_mu);
    names = order;
  }

  // Serves `inv` (the first time) or the server's current units (a socket served again).
  Status serve(Resource& r, std::optional<ResourceInventory> inv = std::nullopt) {
    std::string path = socket_real_path(r.socket_name);
    if (r.server) {
      r.server->stop(false);
      if (!inv) inv = r.server->snapshot();
    }
    r.server = std::make_unique<ResourceServer>(std::move(*inv), opt.log);
    Status s = r.server->start(path);
    if (!s.ok()) return s;
    r.registered = false;
    r.waiting_logged = false;
    r.next_attempt = Clock::now();
    r.backoff = opt.backoff_initial;
    return ok_status();
  }

  // Makes the served set equal to `wanted`, touching only what differs. Compares against the
  // servers' copies in place (diff_resources' rule, same_units), without copying them.
  void apply(std::vector<ResourceInventory> wanted) {
    // Each list holds what it acts on, so no step looks a name up again: a changed resource with
    // its server and new units, an added one with its units (map pointers survive the erasures).
    std::vector<std::string> wanted_names;  // in the policy's order
    std::vector<std::pair<Resource*, ResourceInventory*>> changed;
    std::vector<ResourceInventory*> added;
    // A resource with 0 devices says why, once, and again when the reason changes (its units
    // being equal, an unchanged resource is not in `changed`: the reasons are looked at here).
    std::vector<std::string> empty_lines;
    for (const ResourceInventory& r : wanted) {
      std::string line = empty_line(r);
      if (line.empty()) {
        empty_logged.erase(r.name);
      } else if (empty_logged[r.name] != line) {
        empty_logged[r.name] = line;
        empty_lines.push_back(std::move(line));
      }
    }
    for (ResourceInventory& r : wanted) {
      wanted_names.push_back(r.name);
      auto it = resources.find(r.name);
      if (it == resources.end()) {
        added.push_back(&r);
        continue;
      }
      bool same = false;
      it->second.server->read([&](const ResourceInventory& cur) { same = same_units(cur, r); });
      if (!same) changed.emplace_back(&it->second, &r);
    }
    for (auto it = resources.begin(); it != resources.end();) {
      if (std::find(wanted_names.begin(), wanted_names.end(), it->first) != wanted_names.end()) {
        ++it;
        continue;
      }
      Resource& r = it->second;
      r.server->stop(true);
      (void)host.remove_file(socket_host_path(r.socket_name));  // gRPC unlinks it too
      log("stopped " + it->first + ": no longer in the policy");
      empty_logged.erase(it->first);
      it = resources.erase(it);
    }
    for (auto [r, wanted_inv] : changed) {
      ResourceInventory inv = std::move(*wanted_inv);
      complete_units(host, inv);
      refresh_health(host, inv);
      std::string line = "updated " + describe_resource(inv);
      r->server->update(std::move(inv));
      log(line);
    }
    for (ResourceInventory* wanted_inv : added) {
      std::string name = wanted_inv->name;
      Resource r;
      ResourceInventory inv = std::move(*wanted_inv);
      complete_units(host, inv);
      refresh_health(host, inv);
      std::string what = describe_resource(inv);
      r.socket_name = plugin_socket_name(name);
      Status s = serve(r, std::move(inv));
      if (!s.ok()) {
        log("cannot serve " + name + ": " + s.error().message);
        continue;
      }
      log("serving " + what + " on " + socket_host_path(r.socket_name));
      resources[name] = std::move(r);
    }
    for (const std::string& line : empty_lines) log(line);
    order.clear();
    for (const std::string& name : wanted_names)
      if (resources.contains(name)) order.push_back(name);
    missing_logged.clear();
    publish_names();
    watch_health_dirs();
  }

  Status load_and_apply() {
    auto inv = opt.load_inventory();
    if (!inv.ok()) return inv.error();
    for (const std::string& w : inv->warnings) log("warning: " + w);
    // Before anything is served: a device KubeVirt's own plugin serves too would be offered
    // twice (kubevirt_inventory.h double_serving).
    if (Status s = double_serving(*inv, opt.serve_all); !s.ok()) return s;
    apply(served_resources(*inv, opt.serve_all));
    // Building the inventory reads every device and the pci.ids names, then frees it all; give
    // those pages back, since this process stays up for the node's lifetime (glibc).
    ::malloc_trim(0);
    return ok_status();
  }

  void try_registrations() {
    bool kubelet_there = host.exists(kubelet_host);
    for (const std::string& name : order) {
      Resource* found = find_served(name, "registering it");
      if (!found) continue;
      Resource& r = *found;
      if (r.registered || Clock::now() < r.next_attempt) continue;
      if (!kubelet_there) {
        if (!r.waiting_logged)
          log("waiting for the kubelet (" + kubelet_host + ") to register " + name);
        r.waiting_logged = true;
        continue;
      }
      Status s = register_with_kubelet(dir_real + "/" + kKubeletSocketName, r.socket_name, name,
                                       opt.register_timeout);
      if (s.ok()) {
        r.registered = true;
        r.backoff = opt.backoff_initial;
        log("registered " + describe(r) + " with the kubelet (" + kDevicePluginApiVersion +
            ", endpoint " + r.socket_name + ")");
      } else {
        r.next_attempt = Clock::now() + r.backoff;
        log(s.error().message + "; retrying in " + std::to_string(r.backoff.count()) + " ms");
        r.backoff = std::min(r.backoff * 2, opt.backoff_max);
      }
    }
  }

  int poll_timeout_ms() {
    if (!host.exists(kubelet_host)) return -1;
    auto now = Clock::now();
    std::optional<Clock::duration> wait;
    for (const auto& [name, r] : resources) {
      if (r.registered) continue;
      auto d = r.next_attempt > now ? r.next_attempt - now : Clock::duration::zero();
      if (!wait || d < *wait) wait = d;
    }
    if (!wait) return -1;
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(*wait).count();
    return static_cast<int>(std::min<long long>(ms, INT_MAX));
  }

  void restart_socket(Resource& r, const std::string& name, const std::string& why) {
    Status s = serve(r);
    if (!s.ok())
      log("cannot serve " + name + " again: " + s.error().message);
    else
      log(why + ": serving " + name + " again on " + socket_host_path(r.socket_name));
  }

  using UnitSet = std::map<size_t, std::set<size_t>>;  // resource index → unit indexes

  // Re-checks the units in `units` (every unit when `all`) in place, in the servers; a resource
  // where health changed sends its new list and logs what flipped.
  void recheck(UnitSet units, bool all) {
    if (all) {
      units.clear();
      for (size_t i = 0; i < order.size(); ++i) units[i];
    }
    for (auto& [index, set] : units) {
      const size_t ri = index;  // a plain local: clang 14 cannot capture a structured binding
      if (ri >= order.size()) continue;
      Resource* r = find_served(order[ri], "re-checking its health");
      if (!r) continue;
      std::vector<size_t> idx(set.begin(), set.end());
      std::string line;
      r->server->modify([&](ResourceInventory& inv) {
        std::vector<bool> before;
        before.reserve(inv.units.size());
        for (const Unit& u : inv.units) before.push_back(u.healthy);
        if (!refresh_health(host, inv, idx)) return false;
        std::vector<size_t> flipped;
        for (size_t i = 0; i < inv.units.size(); ++i)
          if (inv.units[i].healthy != before[i]) flipped.push_back(i);
        line = order[ri] + ": " + unit_list(inv, flipped);
        return true;
      });
      if (!line.empty()) log(line);
    }
  }

  // Reads every pending kernel uevent; each one naming a device of a unit (a member, or a
  // sibling in the unit's IOMMU group) re-checks that unit. ENOBUFS (the socket's buffer
  // overflowed: events were lost) re-checks everything, as an inotify overflow does.
  void handle_uevents() {
    std::string buf(8192, '\0');
    UnitSet units;
    bool overflow = false;
    for (;;) {
      sockaddr_storage from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(uevent_fd, buf.data(), buf.size(), MSG_DONTWAIT,
                             reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0 && errno == ENOBUFS) {
        overflow = true;
        continue;
      }
      if (n <= 0) break;
      // On the netlink socket, only the kernel's own messages (sender port 0), as udev does.
      if (len >= sizeof(sockaddr_nl) && from.ss_family == AF_NETLINK &&
          reinterpret_cast<sockaddr_nl*>(&from)->nl_pid != 0)
        continue;
      auto ev = parse_uevent(std::string_view(buf.data(), static_cast<size_t>(n)));
      if (!ev) continue;
      auto entry = uevent_health_entry(*ev);
      if (!entry) continue;
      for (const HealthIndex::Ref& ref : index.affected(host, entry->first, entry->second))
        units[ref.resource].insert(ref.unit);
    }
    if (overflow) log("kernel uevents were lost (socket buffer full): re-checking every device");
    recheck(std::move(units), overflow);
  }

  // Reads every pending inotify event and acts on the batch once.
  void handle_inotify() {
    alignas(inotify_event) char buf[65536];
    bool kubelet_new = false, policy_changed = false, overflow = false;
    std::set<std::string> deleted;
    UnitSet units;
    for (;;) {
      ssize_t n = ::read(inotify_fd, buf, sizeof buf);
      if (n <= 0) break;
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<inotify_event*>(p);
        p += sizeof(inotify_event) + ev->len;
        std::string name = ev->len ? std::string(ev->name) : std::string();
        if (ev->mask & IN_Q_OVERFLOW) overflow = true;
        if (ev->wd == plugin_wd) {
          if (name == kKubeletSocketName && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
            kubelet_new = true;
          else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
            deleted.insert(name);
        }
        if (ev->wd == policy_wd && (name == policy_base || name.rfind("..", 0) == 0))
          policy_changed = true;
        auto it = health_wds.find(ev->wd);
        if (it != health_wds.end())
          for (const HealthIndex::Ref& ref : index.affected(host, it->second, name))
            units[ref.resource].insert(ref.unit);
      }
    }
    if (policy_changed) {
      Status s = load_and_apply();
      if (!s.ok()) {
        // One log line a line of the message (a policy's errors, a refusal's devices).
        const char* what = s.error().kind == ErrorKind::Refused ? "policy change refused"
                                                                : "policy change not applied";
        size_t start = 0;
        const std::string& m = s.error().message;
        do {
          size_t end = m.find('\n', start);
          log(std::string(what) + ", keeping the current resources: " +
              m.substr(start, end == std::string::npos ? std::string::npos : end - start));
          start = end == std::string::npos ? end : end + 1;
        } while (start != std::string::npos);
      }
      overflow = true;  // the index changed: re-check everything below
    }
    recheck(std::move(units), overflow);
    for (const std::string& name : order) {
      Resource* r = find_served(name, "checking its socket");
      if (r && deleted.contains(r->socket_name) && !host.exists(socket_host_path(r->socket_name)))
        restart_socket(*r, name, "socket " + r->socket_name + " was deleted");
    }
    if (kubelet_new) {
      log("kubelet.sock appeared (kubelet restarted): registering every resource again");
      for (const std::string& name : order) {
        Resource* found = find_served(name, "registering it again");
        if (!found) continue;
        Resource& r = *found;
        if (!host.exists(socket_host_path(r.socket_name)))
          restart_socket(r, name, "socket " + r.socket_name + " is gone");
        r.registered = false;
        r.waiting_logged = false;
        r.next_attempt = Clock::now();
        r.backoff = opt.backoff_initial;
      }
    }
  }
};

PluginDaemon::PluginDaemon(Host& host, PluginDaemonOptions options)
    : impl_(std::make_unique<Impl>(host, std::move(options))) {}

PluginDaemon::~PluginDaemon() = default;

Status PluginDaemon::start() {
  Impl& d = *impl_;
  if (!d.opt.load_inventory) return invalid_input("plugin: no inventory source");
  // glibc gives each thread that meets contention its own malloc arena (up to 8 per core), and
  // an arena keeps the peak of what its threads allocated: the ListAndWatch threads each build
  // lists of thousands of devices. This daemon's allocations are few and short; one shared
  // arena keeps them all reusable. Before the first gRPC thread exists (M_ARENA_MAX, mallopt(3)).
  ::mallopt(M_ARENA_MAX, 1);
  if (d.stop_fd < 0) return io_error(std::string("eventfd: ") + std::strerror(errno));
  if (!d.host.is_dir(d.opt.plugin_dir)) {
    Status s = d.host.make_dirs(d.opt.plugin_dir);
    if (!s.ok()) return s.error().wrap("creating the device-plugins directory");
  }
  char real[PATH_MAX];
  std::string resolved = d.host.resolve(d.opt.plugin_dir);
  if (!::realpath(resolved.c_str(), real))
    return io_error("cannot resolve " + resolved + ": " + std::strerror(errno));
  d.dir_real = real;
  d.kubelet_host = join_path(d.opt.plugin_dir, kKubeletSocketName);

  d.inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (d.inotify_fd < 0) return io_error(std::string("inotify_init1: ") + std::strerror(errno));
  Status s = d.watch_plugin_dir();
  if (!s.ok()) return s;
  if (!d.opt.policy_path.empty()) {
    d.policy_dir = dir_name(d.opt.policy_path);
    d.policy_base = base_name(d.opt.policy_path);
    Host& policy_host = d.opt.policy_host ? *d.opt.policy_host : d.host;
    std::string real_dir = policy_host.resolve(d.policy_dir);
    d.policy_wd =
        ::inotify_add_watch(d.inotify_fd, real_dir.c_str(),
                            IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM);
    if (d.policy_wd < 0)
      return io_error("cannot watch " + real_dir + " for policy changes: " + std::strerror(errno));
  }
  if (d.opt.uevent_fd >= 0) {
    d.uevent_fd = d.opt.uevent_fd;
  } else if (is_sysfs(d.host.resolve("/sys"))) {
    // Kernel uevents describe the running kernel: listened to only when the /sys we read is
    // its sysfs (the node's own, or the host's mounted at /host/sys in a pod), never on a
    // fixture root. Multicast group 1 is the kernel's (lib/kobject_uevent.c; any user may
    // receive it).
    int fd =
        ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = 1;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
      int size = 1 << 20;  // a burst of bind/unbind on a big node; kernel memory, not ours
      if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
      d.uevent_fd = d.own_uevent_fd = fd;
    } else {
      d.log(std::string("not listening to kernel uevents (a function leaving vfio-pci while its "
                        "group's /dev/vfio node stays is then seen late): ") +
            std::strerror(errno));
      if (fd >= 0) ::close(fd);
    }
  }
  if (d.opt.stop_on_signals) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    d.signal_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (d.signal_fd < 0) return io_error(std::string("signalfd: ") + std::strerror(errno));
  }
  s = d.load_and_apply();
  if (!s.ok()) return s;
  if (d.order.empty())
    d.log("nothing to serve: no resource of the policy is " +
          std::string(d.opt.serve_all ? "present" : "marked externalResourceProvider: true") +
          "; waiting for a policy change");
  d.try_registrations();
  return ok_status();
}

Status PluginDaemon::run() {
  Impl& d = *impl_;
  for (;;) {
    // signal_fd and uevent_fd may be -1: poll() ignores those entries.
    pollfd fds[4] = {{d.inotify_fd, POLLIN, 0},
                     {d.stop_fd, POLLIN, 0},
                     {d.signal_fd, POLLIN, 0},
                     {d.uevent_fd, POLLIN, 0}};
    int n = ::poll(fds, 4, d.poll_timeout_ms());
    if (n < 0 && errno != EINTR) return io_error(std::string("poll: ") + std::strerror(errno));
    if (n > 0 && (fds[1].revents & POLLIN)) break;
    if (n > 0 && d.signal_fd >= 0 && (fds[2].revents & POLLIN)) {
      signalfd_siginfo info;
      if (::read(d.signal_fd, &info, sizeof info) > 0)
        d.log(std::string("received ") + (info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT") +
              ": stopping");
      break;
    }
    if (n > 0 && (fds[0].revents & POLLIN)) d.handle_inotify();
    if (n > 0 && d.uevent_fd >= 0 && (fds[3].revents & POLLIN)) d.handle_uevents();
    d.try_registrations();
  }
  size_t count = 0;
  for (auto& [name, r] : d.resources) {
    r.server->stop(false);
    (void)d.host.remove_file(d.socket_host_path(r.socket_name));  // gRPC unlinks it too
    ++count;
  }
  d.resources.clear();
  d.order.clear();
  d.publish_names();
  d.log("stopped; removed " + std::to_string(count) + (count == 1 ? " socket" : " sockets"));
  return ok_status();
}

void PluginDaemon::stop() {
  uint64_t one = 1;
  if (impl_->stop_fd >= 0) {
    ssize_t ignored = ::write(impl_->stop_fd, &one, sizeof one);
    (void)ignored;
  }
}

void PluginDaemon::forget_resource_for_testing(const std::string& name) {
  auto it = impl_->resources.find(name);
  if (it == impl_->resources.end()) return;
  it->second.server->stop(false);
  (void)impl_->host.remove_file(impl_->socket_host_path(it->second.socket_name));
  impl_->resources.erase(it);
}

std::vector<std::string> PluginDaemon::served() const {
  std::lock_guard lock(impl_->names_mu);
  return impl_->names;
}

}  // namespace hostpass
