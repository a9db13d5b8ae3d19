// node_name.h — this host's name, as Kubernetes names the node: one function, one source.
//
// The kubelet, unless --hostname-override is given, names its node and sets the
// kubernetes.io/hostname label from os.Hostname(), trimmed and lower-cased
// (k8s.io/component-helpers/node/util GetHostname). On Linux, Go's os.Hostname() reads
// /proc/sys/kernel/hostname — the kernel's UTS nodename, what `hostname` and uname(2) print.
// hostpass reads the same file, through the Host, so that --root fixtures carry their own name.
// When it cannot be read or is empty (a chroot or fixture without /proc), /etc/hostname — the
// name systemd and the init scripts give the kernel at boot — is the fallback.
//
// Users: `render --this-node` (the nodeSelector), `mdev apply` (the kubernetes.io/hostname node
// label), `check` (the node named in its `oc label node` hint).
// Not here: --hostname-override or a cloud provider's node name; nodes named that way must be
// named explicitly (render --node, mdev apply --node-label).
#pragma once

#include <string>

#include "host.h"
#include "result.h"

namespace hostpass {

inline constexpr const char* kKernelHostnamePath = "/proc/sys/kernel/hostname";
inline constexpr const char* kEtcHostnamePath = "/etc/hostname";

// The node name: from the first of /proc/sys/kernel/hostname and /etc/hostname that names one
// (its first line that is neither empty nor a "#" comment), trimmed and lower-cased. NotFound,
// naming both files, when neither gives one.
Result<std::string> this_node_name(Host& host);

}  // namespace hostpass
