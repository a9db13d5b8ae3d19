// forwarding_host_test.cc — every Host call reaches the inner host with its arguments, and its
// result comes back unchanged; wrappers that override one call still forward the others.
#include "forwarding_host.h"

#include <gtest/gtest.h>

#include "faulty_host.h"

namespace hostpass {
namespace {

// Answers every call with a value derived from its arguments and records "call(args)".
class RecordingHost : public Host {
 public:
  std::vector<std::string> calls;

  Result<std::string> read_file(std::string_view path, size_t max_bytes) override {
    calls.push_back("read_file(" + std::string(path) + "," + std::to_string(max_bytes) + ")");
    return "content of " + std::string(path);
  }
  Result<std::string> read_link(std::string_view path) override {
    calls.push_back("read_link(" + std::string(path) + ")");
    return not_found("no link " + std::string(path));
  }
  Result<std::vector<std::string>> list_dir(std::string_view path) override {
    calls.push_back("list_dir(" + std::string(path) + ")");
    return std::vector<std::string>{"a", "b"};
  }
  bool exists(std::string_view path) override {
    calls.push_back("exists(" + std::string(path) + ")");
    return path == "/yes";
  }
  bool is_dir(std::string_view path) override {
    calls.push_back("is_dir(" + std::string(path) + ")");
    return path == "/dir";
  }
  Status write_attribute(std::string_view path, std::string_view data) override {
    calls.push_back("write_attribute(" + std::string(path) + "," + std::string(data) + ")");
    return io_error("write refused");
  }
  Status replace_file(std::string_view path, std::string_view data) override {
    calls.push_back("replace_file(" + std::string(path) + "," + std::string(data) + ")");
    return ok_status();
  }
  Status remove_file(std::string_view path) override {
    calls.push_back("remove_file(" + std::string(path) + ")");
    return ok_status();
  }
  Status make_dirs(std::string_view path) override {
    calls.push_back("make_dirs(" + std::string(path) + ")");
    return ok_status();
  }
  Result<CommandOutput> run_command(const std::vector<std::string>& argv) override {
    calls.push_back("run_command(" + argv.at(0) + ")");
    return CommandOutput{3, "out", "err"};
  }
  std::chrono::system_clock::time_point now() override {
    calls.push_back("now()");
    return std::chrono::system_clock::time_point(std::chrono::seconds(42));
  }
  Result<std::unique_ptr<DeviceHandle>> open_device(std::string_view path) override {
    calls.push_back("open_device(" + std::string(path) + ")");
    return not_found("no node " + std::string(path));
  }
  std::string resolve(std::string_view path) const override {
    return "/fixture" + std::string(path);
  }
};

TEST(ForwardingHost, EveryCallReachesTheInnerHostWithItsArgumentsAndResult) {
  RecordingHost inner;
  ForwardingHost host(inner);
  EXPECT_EQ(*host.read_file("/f", 7), "content of /f");
  EXPECT_EQ(host.read_link("/l").error().kind, ErrorKind::NotFound);
  EXPECT_EQ(*host.list_dir("/d"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(host.exists("/yes"));
  EXPECT_FALSE(host.exists("/no"));
  EXPECT_TRUE(host.is_dir("/dir"));
  EXPECT_EQ(host.write_attribute("/a", "x").error().message, "write refused");
  EXPECT_TRUE(host.replace_file("/r", "y").ok());
  EXPECT_TRUE(host.remove_file("/r").ok());
  EXPECT_TRUE(host.make_dirs("/m").ok());
  EXPECT_EQ(host.run_command({"modprobe", "vfio-pci"})->exit_code, 3);
  EXPECT_EQ(host.now(), std::chrono::system_clock::time_point(std::chrono::seconds(42)));
  EXPECT_EQ(host.open_device("/dev/vfio/vfio").error().message, "no node /dev/vfio/vfio");
  EXPECT_EQ(host.resolve("/sys"), "/fixture/sys");
  EXPECT_EQ(inner.calls,
            (std::vector<std::string>{
                "read_file(/f,7)", "read_link(/l)", "list_dir(/d)", "exists(/yes)", "exists(/no)",
                "is_dir(/dir)", "write_attribute(/a,x)", "replace_file(/r,y)", "remove_file(/r)",
                "make_dirs(/m)", "run_command(modprobe)", "now()", "open_device(/dev/vfio/vfio)"}));
}

TEST(ForwardingHost, OwnsTheInnerHostWhenGivenOne) {
  auto owned = std::make_unique<RecordingHost>();
  RecordingHost* inner = owned.get();
  ForwardingHost host(std::move(owned));
  EXPECT_EQ(*host.read_file("/x", 1), "content of /x");
  EXPECT_EQ(inner->calls, std::vector<std::string>{"read_file(/x,1)"});
}

// FaultyHost overrides only what it counts or fails; the rest is ForwardingHost's.
TEST(ForwardingHost, FaultyHostForwardsWhatItDoesNotChange) {
  RecordingHost inner;
  FaultyHost host(inner);
  host.fail_write_matching("/bind");
  EXPECT_TRUE(host.exists("/yes"));
  EXPECT_TRUE(host.is_dir("/dir"));
  EXPECT_EQ(host.resolve("/sys"), "/fixture/sys");
  EXPECT_EQ(host.now(), std::chrono::system_clock::time_point(std::chrono::seconds(42)));
  EXPECT_FALSE(host.write_attribute("/drivers/vfio-pci/bind", "0000:01:00.0").ok());
  EXPECT_TRUE(host.make_dirs("/m").ok());
  EXPECT_EQ(inner.calls,
            (std::vector<std::string>{"exists(/yes)", "is_dir(/dir)", "now()", "make_dirs(/m)"}));
  EXPECT_EQ(host.read_count(), 0);
  EXPECT_EQ(host.write_count(), 2);
}

}  // namespace
}  // namespace hostpass
