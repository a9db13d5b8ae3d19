// cmd_plugin.cc — `hostpass plugin -f CR.yaml [--plugin-dir DIR] [--all]`: the Kubernetes device
// plugin daemon (plugin/plugin_daemon.h). Runs until SIGTERM or SIGINT.
//
// The CR is the user's file (in a cluster, the mounted ConfigMap): read from the real
// filesystem as typed, like `hostpass inventory`, and watched for changes. The node's devices
// and the device-plugins directory are under --root. By default hostpass serves the resources
// the CR marks `externalResourceProvider: true` (KubeVirt leaves exactly those to an external
// plugin); --all serves every resource of the CR.
// A CR that would have a device served twice — by hostpass in an external resource and by
// KubeVirt's own plugin in one that is not (kubevirt_inventory.h double_serving) — is refused: at
// start with exit 2, on a live edit with a log line a device while the previous policy stays
// served. With --all, KubeVirt's plugins serve none of the CR and each device has one owner. Exit
// codes: 0 stopped by a signal, 2 the CR is invalid or refused at start (or --json is given: a
// daemon has no result to print), 1 anything else at start.
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>

#include "cli.h"
#include "device_plugin.h"
#include "kubevirt_inventory.h"
#include "kubevirt_policy.h"
#include "plugin_daemon.h"
#include "user_file.h"

namespace hostpass {

namespace {

struct PluginFlags {
  std::string file;
  std::string plugin_dir = kDevicePluginDir;
  bool all = false;
};

int run_plugin(Cli& cli, const PluginFlags& flags) {
  // A daemon has no result to print: its output is a log (docs/json.md).
  if (cli.json)
    return report_error(invalid_input(
        "plugin is a daemon and logs to stderr: --json means nothing to it; leave it out"));
  // Before any thread exists, so that SIGTERM/SIGINT reach only the daemon's signalfd.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  // A CR that cannot be read is exit 2 before the daemon starts (user_file.h); the daemon then
  // watches the same file for changes.
  if (auto text = read_user_file(flags.file); !text.ok()) return report_error(text.error());
  std::error_code ec;
  std::string absolute = std::filesystem::absolute(flags.file, ec).string();
  if (ec) absolute = flags.file;
  RealHost local("/");
  Host& host = cli.host();

  PluginDaemonOptions o;
  o.plugin_dir = flags.plugin_dir;
  o.policy_path = absolute;
  o.policy_host = &local;
  o.serve_all = flags.all;
  o.stop_on_signals = true;
  o.load_inventory = [&local, &host, absolute, file = flags.file]() -> Result<Inventory> {
    auto policy = load_policy(local, absolute, file);
    if (!policy.ok()) return policy.error();
    return build_inventory(host, *policy);
  };
  PluginDaemon daemon(host, o);
  Status s = daemon.start();
  if (!s.ok()) return report_error_lines(s.error());
  s = daemon.run();
  if (!s.ok()) return report_error(s.error());
  return kExitOk;
}

}  // namespace

void add_plugin_commands(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<PluginFlags>();
  CLI::App* plugin = app.add_subcommand(
      "plugin",
      "serve the CR's host-device resources to the kubelet as a device plugin (v1beta1), "
      "KubeVirt-compatible; runs until SIGTERM");
  plugin
      ->add_option("-f,--file", flags->file,
                   "the KubeVirt CR, HyperConverged CR, or permittedHostDevices mapping (YAML); "
                   "watched for changes")
      ->required()
      ->type_name("CR.yaml");
  plugin
      ->add_option("--plugin-dir", flags->plugin_dir,
                   "the kubelet's device-plugins directory, under --root")
      ->type_name("DIR")
      ->capture_default_str();
  plugin->add_flag("--all", flags->all,
                   "serve every resource of the CR, not only those marked "
                   "externalResourceProvider: true");
  plugin->callback([&cli, flags] { cli.exit_code = run_plugin(cli, *flags); });
}

}  // namespace hostpass
