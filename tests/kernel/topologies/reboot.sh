# topologies/reboot.sh — sourced by boot.sh: the "iommu" machine booted again after
# `hostpass persist --write` (boot iommu) and `hostpass kernel-args --format grub --apply`
# (boot noiommu) changed its configuration, as an operator's reboot would find it:
#   - the same devices at the same addresses (topologies/iommu.sh), so the persisted files,
#     which name addresses and ids, mean what they meant;
#   - the kernel command line update-grub would generate from the edited /etc/default/grub:
#     "$GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT" (grub's 10_linux), the file read as
#     grub-mkconfig reads it (sourced by a shell);
#   - /etc holding every file those boots wrote: their "persisted:PATH" captures, extracted from
#     ../iommu/results.log and ../noiommu/results.log into $out/persisted and added to the
#     initramfs at PATH;
#   - no module preloaded by /init (an empty /modules.order replaces the default one): the guest
#     scenario coldplugs like udev (guest/scenario_reboot.sh).
# Requires both boots' results (CMake: REQUIRES iommu noiommu).
. "$here/topologies/iommu.sh"

persisted=$out/persisted
rm -rf "$persisted"
mkdir -p "$persisted"
# extract RESULTS: writes every "persisted:PATH" capture of RESULTS (exit status 0: the file
# existed) to $persisted/PATH.
extract_persisted() {
  [ -f "$1" ] || { echo "reboot.sh: no $1: run the iommu and noiommu boots first" >&2; exit 2; }
  awk -v dir="$persisted" '
    /^@@HP out persisted:/ { path = substr($0, length("@@HP out persisted:") + 1); file = dir path
                             system("mkdir -p \"$(dirname \"" file "\")\""); printf "" > file
                             next }
    /^@@HP rc persisted:/  { if (file != "") { close(file); if ($NF != 0) system("rm -f \"" file "\"") }
                             file = ""; next }
    /^@@HP /               { file = ""; next }
    file != "" && /^@@\| / { print substr($0, 5) > file; next }
    file != "" && /^@@\|$/ { print "" > file; next }
  ' "$1"
}
extract_persisted "$out/../iommu/results.log"
extract_persisted "$out/../noiommu/results.log"

grub=$persisted/etc/default/grub
[ -s "$grub" ] || { echo "reboot.sh: the noiommu boot captured no /etc/default/grub" >&2; exit 2; }
cmdline=$(env -i bash -c '. "$1" && printf "%s %s" "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"' \
  _ "$grub")
[ -n "${cmdline// /}" ] || { echo "reboot.sh: $grub gives an empty command line" >&2; exit 2; }

while IFS= read -r f; do
  initramfs_extra+=("$f=${f#"$persisted"}")
done < <(find "$persisted" -type f | sort)
: >"$out/modules.order"
initramfs_extra+=("$out/modules.order=/modules.order")
