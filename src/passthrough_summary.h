// passthrough_summary.h — in plain words, what passing one device through would take.
//
// `hostpass show` prints this under the device. It only reads facts already gathered (the device
// and the members of its IOMMU group) and says what a careful operator would check by hand:
// whether there is an IOMMU group at all, which siblings share it and what they are bound to,
// whether the host needs the device, whether it can be reset. The bind engine enforces the same
// rules; this is the explanation, not the enforcement.
#pragma once

#include <string>
#include <vector>

#include "iommu_group.h"
#include "pci_device.h"
#include "vfio_rules.h"  // the rules applied here (and, for older includers, is_vfio_driver)

namespace hostpass {

struct PassthroughSummary {
  bool ready = false;                 // already on vfio-pci with a viable group
  bool blocked = false;               // something must change that hostpass will not do itself
  std::vector<std::string> steps;     // what to do, in order; empty when ready
  std::vector<std::string> concerns;  // warnings that do not block (no reset method, ...)
};

// REQUIRES: `group` holds every member of d's IOMMU group (d included), Basic detail or more.
PassthroughSummary summarize_passthrough(const PciDevice& d, const std::vector<PciDevice>& group);

}  // namespace hostpass
