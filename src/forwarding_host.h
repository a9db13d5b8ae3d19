// forwarding_host.h — a Host that hands every call to an inner Host, unchanged.
//
// The base of every Host wrapper (FaultyHost, the test simulators SimKernelHost and SimMdevHost,
// test fakes): a wrapper derives from ForwardingHost and overrides only the calls it changes, so
// a method added to Host reaches every wrapper's inner host without touching the wrappers, and
// no wrapper silently falls back to a Host default (open_device's refusal, for instance) because
// its author forgot to forward one.
//
// Contract: each method calls the same method of the inner host with the same arguments and
// returns its result as is. ForwardingHost adds no state, no locking, no counting.
//
// What it deliberately does not do: own anything unless constructed from a unique_ptr (what a
// CLI HostFactory returns), or decide anything on the inner host's behalf.
#pragma once

#include <memory>

#include "host.h"

namespace hostpass {

class ForwardingHost : public Host {
 public:
  explicit ForwardingHost(Host& inner) : inner_(inner) {}
  // Owns the wrapped host.
  explicit ForwardingHost(std::unique_ptr<Host> owned)
      : owned_(std::move(owned)), inner_(*owned_) {}

  Result<std::string> read_file(std::string_view path, size_t max_bytes = 1 << 20) override {
    return inner_.read_file(path, max_bytes);
  }
  Result<std::string> read_link(std::string_view path) override { return inner_.read_link(path); }
  Result<std::vector<std::string>> list_dir(std::string_view path) override {
    return inner_.list_dir(path);
  }
  bool exists(std::string_view path) override { return inner_.exists(path); }
  bool is_dir(std::string_view path) override { return inner_.is_dir(path); }
  Status write_attribute(std::string_view path, std::string_view data) override {
    return inner_.write_attribute(path, data);
  }
  Status replace_file(std::string_view path, std::string_view data) override {
    return inner_.replace_file(path, data);
  }
  Status remove_file(std::string_view path) override { return inner_.remove_file(path); }
  Status make_dirs(std::string_view path) override { return inner_.make_dirs(path); }
  Result<CommandOutput> run_command(const std::vector<std::string>& argv) override {
    return inner_.run_command(argv);
  }
  std::chrono::system_clock::time_point now() override { return inner_.now(); }
  Result<std::unique_ptr<DeviceHandle>> open_device(std::string_view path) override {
    return inner_.open_device(path);
  }
  Result<std::unique_ptr<FileLock>> lock_exclusive(std::string_view path,
                                                   std::chrono::milliseconds wait) override {
    return inner_.lock_exclusive(path, wait);
  }
  std::string resolve(std::string_view path) const override { return inner_.resolve(path); }

 private:
  std::unique_ptr<Host> owned_;  // before inner_: inner_ may refer to it

 protected:
  // The wrapped host. Protected, not private: the wrappers' own overrides call through it on
  // every line, as they did when each held its own reference.
  Host& inner_;
};

}  // namespace hostpass
