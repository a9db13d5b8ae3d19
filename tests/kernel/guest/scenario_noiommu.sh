# scenario_noiommu.sh — the same kernel booted with intel_iommu=off (VT-d present, not enabled).
# Captures what `check` and `verify` say where no IOMMU groups exist.
. /lib/hostpass-tier.sh
NIC=0000:01:00.0
capture groups iommu_groups
capture state pci_state
capture check hostpass check
capture_stdout check.json hostpass --json check
capture verify hostpass verify $NIC

# --- kernel-args --format grub --apply (assertions: ../kernel_mutate_test.cc) ----------------
# The /etc/default/grub this boot's command line came from, as Debian's installer writes it,
# with an operator's intel_iommu=off in GRUB_CMDLINE_LINUX_DEFAULT: update-grub boots
# "$GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT", which is this boot's argument set.
linux_args=""
for a in $(cat /proc/cmdline); do
  case $a in quiet | intel_iommu=*) ;; *) linux_args="$linux_args${linux_args:+ }$a" ;; esac
done
mkdir -p /etc/default
cat >/etc/default/grub <<EOF
# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.
# For full documentation of the options in this file, see:
#   info -f grub -n 'Simple configuration'

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=\`lsb_release -i -s 2> /dev/null || echo Debian\`
GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=off"
GRUB_CMDLINE_LINUX="$linux_args"

# If your computer has multiple operating systems installed, then you
# probably want to run os-prober. However, if your computer is a host
# for guest OSs installed via LXC, you might also want to set this to
# true.
#GRUB_DISABLE_OS_PROBER=false

# Uncomment to disable graphical terminal
#GRUB_TERMINAL=console

# Uncomment if you don't want GRUB to pass "root=UUID=xxx" parameter to Linux
#GRUB_DISABLE_LINUX_UUID=true

# Uncomment to disable generation of recovery mode menu entries
#GRUB_DISABLE_RECOVERY="true"
EOF
cat >/etc/os-release <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
EOF
capture grub.before cat /etc/default/grub
capture kernel-args.cmdline hostpass kernel-args
capture kernel-args.diff hostpass kernel-args --format grub
capture grub.after-diff cat /etc/default/grub
capture kernel-args.apply hostpass kernel-args --format grub --apply
capture "persisted:/etc/default/grub" cat /etc/default/grub
capture grub.backup cat /etc/default/grub.hostpass.bak
capture kernel-args.apply.again hostpass kernel-args --format grub --apply
capture grub.after-again cat /etc/default/grub
