// twin_devices_host.h — a fixture machine with identical devices where one of each is the host's
// own: the next-boot guard's cases (an id list catching the root disk's twin).
//   0000:04:00.0 NVMe 8086:5845 on nvme, nvme0n1p2 mounted on /   (group 4)
//   0000:05:00.0 NVMe 8086:5845 on nvme, holds nothing            (group 5)
//   0000:06:00.0 NVMe 8086:5845 on nvme, holds nothing            (group 6)
//   0000:00:19.0 NIC 8086:10d3 on e1000e, eth0 up, default route  (group 7)
//   0000:00:1a.0 NIC 8086:10d3 on e1000e, eth1 down               (group 8)
//   0000:01:00.0, 0000:02:00.0 T4 GPUs 10de:1eb8 on nvidia        (groups 1, 2)
// with an IOMMU, vfio-pci loaded, kernel 6.1.0-13-amd64 whose modules.alias maps the NVMe class
// to nvme. Its own file so that fixture_tree.h, which every test includes, stays unchanged.
#pragma once

#include "fixture_tree.h"

namespace hostpass::testing {

void build_twin_devices_host(FixtureTree& tree);

}  // namespace hostpass::testing
