// next_boot_guard.cc — see next_boot_guard.h.
#include "next_boot_guard.h"

#include <algorithm>

#include "host_use.h"
#include "passthrough_summary.h"
#include "pci_device.h"
#include "pci_id.h"

namespace hostpass {

Result<NextBootCheck> guard_next_boot(Host& host, const NextBootRequest& r) {
  auto all = discover_pci(host, DiscoverOptions{});
  if (!all.ok()) return all.error().wrap("listing the devices the ids would catch");
  HostUseMap uses = detect_host_use(host);
  NextBootCheck check;
  std::vector<Blocker> blockers;
  for (PciDevice& d : *all) {
    if (!d.vendor || !d.device) continue;
    std::string id = vendor_device_string(*d.vendor, *d.device);
    if (r.only_chosen ? !r.chosen.contains(d.address)
                      : std::find(r.ids.begin(), r.ids.end(), id) == r.ids.end())
      continue;
    check.caught.push_back(d.address);
    attach_host_use(host, uses, d);
    std::vector<Blocker> mine = host_use_blockers(uses, d);
    if (!mine.empty()) {
      blockers.insert(blockers.end(), mine.begin(), mine.end());
      continue;
    }
    bool on_vfio = d.driver && is_vfio_driver(*d.driver);
    if (r.chosen.contains(d.address) || on_vfio) continue;
    check.warnings.push_back(r.form + id + (r.chosen.empty() ? " " : " also ") + r.verb + " " +
                             d.address.to_string() + " (now on " + d.driver.value_or("no driver") +
                             ") " + r.effect + (r.alternative.empty() ? "" : "; " + r.alternative));
  }
  GuardVerdict v = apply_force(blockers, r.force);
  if (!v.ok()) {
    std::string ids;
    for (const std::string& id : r.ids) ids += (ids.empty() ? "" : ",") + id;
    std::string msg =
        r.only_chosen ? r.form + " names devices the host uses: it " + r.verb + " them " + r.effect
                      : r.form + ids + " also matches devices the host uses: it " + r.verb +
                            " every device with these ids " + r.effect + ", whatever its address";
    for (const std::string& line : refusal_lines(v.refused)) msg += "\n" + line;
    if (!r.alternative.empty()) msg += "\n" + r.alternative;
    return refused(msg);
  }
  check.forced = v.forced;
  for (const Blocker& b : v.forced) check.notes.push_back(forced_note(b));
  return check;
}

}  // namespace hostpass
