#!/usr/bin/env bash
# Prepares a host for sipwall-dataplane: hugepages, the dataplane NICs bound to vfio-pci
# (dpdk-devbind.py) and the CPU isolation the worker cores want.
#
#   deploy/setup-host.sh [--config FILE] [--apply] [--force]
#
# Without --apply it prints what it would do and what it found (a dry run: nothing changes).
# Settings come from FILE (default /etc/sipwall/host.conf; example: deploy/examples/host.conf),
# environment variables of the same names override them:
#   HUGEPAGES_2M   2 MiB hugepages to reserve in total (the dataplane's memory: mbuf pool,
#                  tables of 48 MiB per worker for 1 M sources, DPDK's own)
#   HUGE_MOUNT     hugetlbfs mount point (default /dev/hugepages)
#   NICS           PCI addresses of the dataplane ports, carrier side first (port 0 = outside)
#   DRIVER         driver to bind them to (default vfio-pci)
#   ISOLATED_CPUS  CPUs of the worker lcores: the kernel options to isolate them are printed,
#                  never written (the boot loader is the operator's)
# Refuses to take a NIC whose kernel interface is up with addresses (likely the management
# link) unless --force. Run as root with --apply; sipwall-host-setup.service does at boot.
# (Tests point SIPWALL_SYSFS and SIPWALL_CMDLINE at a made-up /sys and /proc/cmdline.)
set -euo pipefail

SYSFS=${SIPWALL_SYSFS:-/sys}
CMDLINE=${SIPWALL_CMDLINE:-/proc/cmdline}
CONFIG=/etc/sipwall/host.conf
APPLY=0
FORCE=0
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "setup-host.sh: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --apply) APPLY=1 ;;
    --force) FORCE=1 ;;
    --config) [[ $# -ge 2 ]] || die "--config needs a file"; CONFIG=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

# The environment wins over the file, so a test or an operator can override one setting.
env_HUGEPAGES_2M=${HUGEPAGES_2M-}; env_HUGE_MOUNT=${HUGE_MOUNT-}; env_NICS=${NICS-}
env_DRIVER=${DRIVER-}; env_ISOLATED_CPUS=${ISOLATED_CPUS-}
if [[ -e $CONFIG ]]; then
  # shellcheck source=/dev/null
  source "$CONFIG"
elif [[ $APPLY -eq 1 ]]; then
  die "no config file $CONFIG (example: deploy/examples/host.conf)"
fi
HUGEPAGES_2M=${env_HUGEPAGES_2M:-${HUGEPAGES_2M:-0}}
HUGE_MOUNT=${env_HUGE_MOUNT:-${HUGE_MOUNT:-/dev/hugepages}}
NICS=${env_NICS:-${NICS:-}}
DRIVER=${env_DRIVER:-${DRIVER:-vfio-pci}}
ISOLATED_CPUS=${env_ISOLATED_CPUS:-${ISOLATED_CPUS:-}}

[[ $HUGEPAGES_2M =~ ^[0-9]+$ ]] || die "HUGEPAGES_2M must be a number of pages, not '$HUGEPAGES_2M'"
[[ $DRIVER =~ ^(vfio-pci|uio_pci_generic|igb_uio)$ ]] || die "DRIVER '$DRIVER': vfio-pci, uio_pci_generic or igb_uio"
[[ -z $ISOLATED_CPUS || $ISOLATED_CPUS =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] ||
  die "ISOLATED_CPUS '$ISOLATED_CPUS': a CPU list such as 2-5 or 2,4,6"
for nic in $NICS; do
  [[ $nic =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] ||
    die "NICS: '$nic' is not a PCI address (DDDD:BB:DD.F, see dpdk-devbind.py --status)"
done
if [[ $APPLY -eq 1 && $(id -u) -ne 0 ]]; then
  die "--apply needs root"
fi

step() {  # prints a command; runs it with --apply
  if [[ $APPLY -eq 1 ]]; then
    echo "+ $*"
    "$@"
  else
    echo "would run: $*"
  fi
}

echo "== hugepages"
pages=$SYSFS/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
have=$(cat "$pages" 2>/dev/null || echo 0)
echo "2 MiB pages reserved now: $have, wanted: $HUGEPAGES_2M"
if [[ $HUGEPAGES_2M -gt 0 && $have -lt $HUGEPAGES_2M ]]; then
  step sh -c "echo $HUGEPAGES_2M > $pages"
  if [[ $APPLY -eq 1 ]]; then
    got=$(cat "$pages")
    [[ $got -ge $HUGEPAGES_2M ]] ||
      die "only $got of $HUGEPAGES_2M hugepages reserved (memory fragmented: reserve at boot with hugepages=$HUGEPAGES_2M on the kernel command line)"
  fi
fi
if ! findmnt -t hugetlbfs "$HUGE_MOUNT" >/dev/null 2>&1; then
  step mkdir -p "$HUGE_MOUNT"
  step mount -t hugetlbfs -o pagesize=2M nodev "$HUGE_MOUNT"
else
  echo "hugetlbfs mounted on $HUGE_MOUNT"
fi

echo "== NICs for the dataplane"
if [[ -z $NICS ]]; then
  echo "NICS is empty: nothing to bind (virtual devices only?)"
else
  command -v dpdk-devbind.py >/dev/null || die "dpdk-devbind.py not found (Debian package dpdk)"
  if [[ $DRIVER == vfio-pci ]]; then
    step modprobe vfio-pci
    if [[ -z $(ls -A "$SYSFS/kernel/iommu_groups" 2>/dev/null) ]]; then
      echo "warning: no IOMMU groups: enable the IOMMU (intel_iommu=on iommu=pt, or amd_iommu=on)" \
           "or vfio-pci cannot take the NICs"
    fi
  fi
  for nic in $NICS; do
    dev=$SYSFS/bus/pci/devices/$nic
    [[ -e $dev ]] || die "$nic: no such PCI device"
    current=$(basename "$(readlink -f "$dev/driver" 2>/dev/null || echo none)")
    if [[ $current == "$DRIVER" ]]; then
      echo "$nic: already bound to $DRIVER"
      continue
    fi
    for net in "$dev"/net/*; do
      [[ -e $net ]] || continue
      iface=$(basename "$net")
      if [[ -n $(ip -o addr show dev "$iface" 2>/dev/null) && $(cat "$net/operstate") == up ]]; then
        [[ $FORCE -eq 1 ]] ||
          die "$nic is $iface, up with addresses (the management link?): refusing without --force"
      fi
      step ip link set dev "$iface" down
    done
    step dpdk-devbind.py --bind="$DRIVER" "$nic"
  done
fi

echo "== CPU isolation"
if [[ -z $ISOLATED_CPUS ]]; then
  echo "ISOLATED_CPUS is empty: worker cores share the scheduler with everything else"
else
  wanted="isolcpus=$ISOLATED_CPUS nohz_full=$ISOLATED_CPUS rcu_nocbs=$ISOLATED_CPUS"
  missing=""
  for opt in $wanted; do
    grep -qw -- "$opt" "$CMDLINE" || missing+=" $opt"
  done
  if [[ -z $missing ]]; then
    echo "kernel command line isolates $ISOLATED_CPUS"
  else
    echo "not on the kernel command line:$missing"
    echo "add them to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub and reboot;"
    echo "keep IRQs off them too (irqaffinity= the other CPUs). Workers: EAL -l with these CPUs."
  fi
fi
[[ $APPLY -eq 1 ]] || echo "(dry run: nothing changed; --apply to do it)"
