// vfio_group_users.h — which processes hold a VFIO group open, i.e. which devices a running VM
// (or any other VFIO user) is using right now.
//
// Contract (proc(5)): /proc/<pid>/fd/<n> is a symlink whose target is the opened file's path;
// a VFIO group opened by QEMU reads "/dev/vfio/<N>" (QEMU's vfio_get_group opens it and keeps it
// for the VM's lifetime). /proc/<pid>/comm is the process name. Processes this user may not
// inspect (another user's fds without CAP_SYS_PTRACE) are skipped: run as root for a full answer.
//
// What it deliberately does not do: look at iommufd/cdev users (/dev/vfio/devices/vfioX, Linux
// 6.2+ — Debian 12's 6.1 has none) or decide anything; callers decide what "in use" forbids.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "host.h"
#include "result.h"

namespace hostpass {

struct VfioGroupUser {
  int pid = 0;
  std::string comm;  // "qemu-system-x86", "" when unreadable
  // "123 (qemu-system-x86)"
  std::string describe() const;
};

// Group number → the processes holding /dev/vfio/<group> open, by ascending pid.
// One pass over /proc; an unreadable /proc is an error, an unreadable process is skipped.
Result<std::map<int, std::vector<VfioGroupUser>>> vfio_group_users(Host& host);

}  // namespace hostpass
