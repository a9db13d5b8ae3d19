// boot_loader.cc — see boot_loader.h.
#include "boot_loader.h"

#include <algorithm>
#include <map>

namespace hostpass {

namespace {

bool any_of_ids(const std::vector<std::string>& distro, std::initializer_list<const char*> ids) {
  for (const std::string& d : distro)
    for (const char* id : ids)
      if (d == id) return true;
  return false;
}

}  // namespace

const char* boot_loader_name(BootLoader loader) {
  switch (loader) {
    case BootLoader::Grub:
      return "grub";
    case BootLoader::GrubBls:
      return "grub-bls";
    case BootLoader::SystemdBoot:
      return "systemd-boot";
    case BootLoader::Unknown:
      break;
  }
  return "unknown";
}

std::string BootLoaderInfo::apply_format() const {
  return loader == BootLoader::SystemdBoot ? "kernel-cmdline" : "grub";
}

std::string BootLoaderInfo::apply_advice() const {
  return "hostpass kernel-args --format " + apply_format() + " --apply";
}

std::vector<std::string> distro_ids(Host& host) {
  std::map<std::string, std::string> kv;
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto text = host.read_file(path, 64 << 10);
    if (!text.ok()) continue;
    for (const std::string& line : split(*text, '\n')) {
      size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string v(trim(std::string_view(line).substr(eq + 1)));
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
      kv[line.substr(0, eq)] = v;
    }
    break;
  }
  std::vector<std::string> ids;
  if (!kv["ID"].empty()) ids.push_back(kv["ID"]);
  for (const std::string& id : split(kv["ID_LIKE"], ' '))
    if (!id.empty()) ids.push_back(id);
  return ids;
}

std::string grub_mkconfig_command(const std::vector<std::string>& distro) {
  if (any_of_ids(distro, {"debian", "ubuntu"})) return "update-grub";
  if (any_of_ids(distro,
                 {"rhel", "fedora", "centos", "rocky", "almalinux", "suse", "opensuse", "sles"}))
    return "grub2-mkconfig -o /boot/grub2/grub.cfg";
  return "grub-mkconfig -o /boot/grub/grub.cfg";
}

std::string kernel_cmdline_regenerate_command(const std::vector<std::string>& distro) {
  // Debian's and Ubuntu's systemd-boot and UKI hooks (/etc/initramfs/post-update.d/,
  // /etc/kernel/postinst.d/) run kernel-install for every kernel the initramfs is rebuilt for.
  if (any_of_ids(distro, {"debian", "ubuntu"})) return "update-initramfs -u -k all";
  if (any_of_ids(distro, {"arch"})) return "mkinitcpio -P";
  if (any_of_ids(distro, {"suse", "opensuse", "sles"})) return "dracut --regenerate-all --force";
  return "kernel-install add \"$(uname -r)\" \"/lib/modules/$(uname -r)/vmlinuz\"";
}

BootLoaderInfo detect_boot_loader(Host& host) {
  BootLoaderInfo info;
  info.distro = distro_ids(host);
  info.grub_defaults = host.exists("/etc/default/grub");
  info.kernel_cmdline = host.exists(kKernelCmdlineFile);
  for (const char* conf :
       {"/boot/efi/loader/loader.conf", "/efi/loader/loader.conf", "/boot/loader/loader.conf"})
    if (host.exists(conf)) {
      info.loader_conf = conf;
      break;
    }
  if (auto entries = host.list_dir(kBlsEntriesDir); entries.ok()) {
    for (const std::string& e : *entries)
      if (e.ends_with(".conf")) info.bls_entries.push_back(join_path(kBlsEntriesDir, e));
    std::sort(info.bls_entries.begin(), info.bls_entries.end());
  }
  if (!info.loader_conf.empty()) {
    info.loader = BootLoader::SystemdBoot;
    info.evidence = info.loader_conf + ": present";
  } else if (info.kernel_cmdline && !info.grub_defaults) {
    info.loader = BootLoader::SystemdBoot;
    info.evidence = std::string(kKernelCmdlineFile) + ": present, /etc/default/grub: absent";
  } else if (info.grub_defaults && !info.bls_entries.empty()) {
    info.loader = BootLoader::GrubBls;
    info.evidence = std::string(kBlsEntriesDir) + ": " + std::to_string(info.bls_entries.size()) +
                    (info.bls_entries.size() == 1 ? " entry" : " entries");
  } else if (info.grub_defaults) {
    info.loader = BootLoader::Grub;
    info.evidence = "/etc/default/grub: present";
  } else {
    info.evidence = "no /etc/default/grub, /etc/kernel/cmdline or loader.conf";
  }
  return info;
}

std::string set_args_advice(const BootLoaderInfo& info, const std::vector<std::string>& add,
                            const std::vector<std::string>& remove) {
  switch (info.loader) {
    case BootLoader::GrubBls: {
      std::string cmd = "grubby --update-kernel=ALL";
      if (!add.empty()) cmd += " --args=\"" + join(add, " ") + "\"";
      if (!remove.empty()) cmd += " --remove-args=\"" + join(remove, " ") + "\"";
      return cmd;
    }
    case BootLoader::Grub:
      return "edit GRUB_CMDLINE_LINUX in /etc/default/grub, then run: " +
             grub_mkconfig_command(info.distro);
    case BootLoader::SystemdBoot:
      return std::string("edit ") + kKernelCmdlineFile +
             ", then run: " + kernel_cmdline_regenerate_command(info.distro);
    case BootLoader::Unknown:
      break;
  }
  return "add them to your boot loader's kernel command line";
}

}  // namespace hostpass
