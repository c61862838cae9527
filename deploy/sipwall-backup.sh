#!/usr/bin/env bash
# Backs up and restores what makes a sipwall appliance itself: the configuration folder
# (rule files, dataplane.env, host.conf, the credentials file: hashed HA1s, never passwords)
# and the dynamic state (bans, trust entries, pinholes: the dataplane's --state-file).
#
#   sipwall-backup.sh export [ARCHIVE]     write a .tar.gz (default: /var/backups/sipwall/
#                                          sipwall-HOST-YYYYmmdd-HHMMSS.tar.gz), mode 0600
#   sipwall-backup.sh list ARCHIVE         show what an archive holds (and verify it)
#   sipwall-backup.sh import ARCHIVE [--force]
#                                          verify, check, keep the current files as an
#                                          archive beside them, then restore
#
# An archive holds sipwall-backup/MANIFEST (format, host, date, a sha256 per file),
# sipwall-backup/etc/... and sipwall-backup/state/dynamic.state. Import refuses an archive
# whose files do not match the manifest, that holds anything else (absolute paths, "..",
# links), whose rule file does not compile (sipwall-rules check) or whose credentials file
# does not parse (sipwall-passwd --check). It restores the state file only while no
# sipwall-dataplane runs (it rewrites that file every 5 s and at exit): stop it first
# (systemctl stop sipwall-dataplane) or pass --force to restore the rest and skip the state.
#
# Paths (environment): SIPWALL_ETC=/etc/sipwall, SIPWALL_STATE=/var/lib/sipwall/dynamic.state,
# SIPWALL_CONTROL=/run/sipwall/control.sock (a dataplane answering there is running),
# SIPWALL_RULES_TOOL=sipwall-rules, SIPWALL_PASSWD_TOOL=sipwall-passwd, SIPWALLCTL=sipwallctl.
# Active/standby pairs: export on the active one, import on the standby (deploy/README.md).
set -euo pipefail

ETC=${SIPWALL_ETC:-/etc/sipwall}
STATE=${SIPWALL_STATE:-/var/lib/sipwall/dynamic.state}
RULES_TOOL=${SIPWALL_RULES_TOOL:-sipwall-rules}
PASSWD_TOOL=${SIPWALL_PASSWD_TOOL:-sipwall-passwd}
CONTROL=${SIPWALL_CONTROL:-/run/sipwall/control.sock}
CTL=${SIPWALLCTL:-sipwallctl}
FORMAT="sipwall-backup 1"
umask 077

die() { echo "sipwall-backup.sh: $*" >&2; exit 1; }
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

# Writes the archive of the current files to $1.
export_to() {
  local archive=$1 stage
  [[ -d $ETC ]] || die "no configuration folder $ETC (set SIPWALL_ETC)"
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' RETURN
  mkdir -p "$stage/sipwall-backup/etc" "$stage/sipwall-backup/state"
  # Regular files only: links could point anywhere on restore.
  (cd "$ETC" && find . -type f -print0 | tar --null -T - -cf -) |
    tar -C "$stage/sipwall-backup/etc" -xpf -
  if [[ -f $STATE ]]; then
    cp -p "$STATE" "$stage/sipwall-backup/state/dynamic.state"
  fi
  {
    echo "format: $FORMAT"
    echo "host: $(hostname)"
    echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "etc: $ETC"
    echo "state: $STATE"
    (cd "$stage/sipwall-backup" && find etc state -type f -print0 | sort -z |
       xargs -0 -r sha256sum | sed 's/^/sha256: /')
  } > "$stage/sipwall-backup/MANIFEST"
  mkdir -p "$(dirname "$archive")"
  tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$archive.tmp" sipwall-backup
  chmod 600 "$archive.tmp"
  mv "$archive.tmp" "$archive"
}

# Unpacks $1 into $2 after checking every entry, then verifies the manifest.
unpack_verified() {
  local archive=$1 into=$2 entry
  [[ -f $archive ]] || die "no archive $archive"
  tar -tzf "$archive" > "$into.list" 2>/dev/null || die "$archive: not a readable .tar.gz"
  while IFS= read -r entry; do
    [[ $entry == sipwall-backup || $entry == sipwall-backup/* ]] ||
      die "$archive: unexpected entry '$entry'"
    [[ /$entry/ != */../* ]] || die "$archive: entry '$entry' climbs out"
  done < "$into.list"
  rm -f "$into.list"
  if tar -tvzf "$archive" | grep -qv '^[-d]'; then
    die "$archive: holds links or devices (only files and folders are restored)"
  fi
  tar -C "$into" --no-same-owner --no-same-permissions -xzf "$archive"
  local root=$into/sipwall-backup
  [[ -f $root/MANIFEST ]] || die "$archive: no MANIFEST"
  [[ $(head -1 "$root/MANIFEST") == "format: $FORMAT" ]] ||
    die "$archive: not a $FORMAT archive ($(head -1 "$root/MANIFEST"))"
  local listed actual
  listed=$(sed -n 's/^sha256: [0-9a-f]\{64\}  //p' "$root/MANIFEST" | sort)
  actual=$(cd "$root" && find etc state -type f 2>/dev/null | sort)
  [[ $listed == "$actual" ]] || die "$archive: files differ from its MANIFEST"
  (cd "$root" && sed -n 's/^sha256: //p' MANIFEST | sha256sum --quiet -c -) ||
    die "$archive: checksums do not match its MANIFEST (damaged or edited)"
}

# The rule file the dataplane loads (dataplane.env's SIPWALL_RULES, default site.rules) as
# staged under $1/sipwall-backup/etc; empty when it lies outside the backed-up folder.
staged_rule_file() {
  local root=$1/sipwall-backup rules="" from
  from=$(sed -n 's/^etc: //p' "$root/MANIFEST")
  if [[ -f $root/etc/dataplane.env ]]; then
    rules=$(sed -n 's/^SIPWALL_RULES=//p' "$root/etc/dataplane.env" | tail -1 | tr -d '"')
  fi
  rules=${rules:-$from/site.rules}
  if [[ $rules == "$from"/* ]]; then
    echo "$root/etc/${rules#"$from"/}"
  elif [[ $rules == "$ETC"/* ]]; then
    echo "$root/etc/${rules#"$ETC"/}"
  fi
}

check_staged() {
  local etc=$1/sipwall-backup/etc rules
  rules=$(staged_rule_file "$1")
  if [[ -z $rules ]]; then
    echo "warning: the rule file dataplane.env names is outside the archive: not checked"
  elif [[ -f $rules ]]; then
    if command -v "$RULES_TOOL" >/dev/null; then
      "$RULES_TOOL" check "$rules" >/dev/null || die "the archive's rule file does not compile: $RULES_TOOL check $rules"
      echo "rules: $(basename "$rules") compiles"
    else
      echo "warning: $RULES_TOOL not found: rules not checked"
    fi
  else
    echo "warning: the archive has no rule file $(basename "$rules")"
  fi
  if [[ -f $etc/credentials ]]; then
    if command -v "$PASSWD_TOOL" >/dev/null; then
      "$PASSWD_TOOL" --check "$etc/credentials" >/dev/null ||
        die "the archive's credentials file does not parse: $PASSWD_TOOL --check"
      echo "credentials: parse"
    else
      echo "warning: $PASSWD_TOOL not found: credentials not checked"
    fi
  fi
}

# Whether a dataplane serves this configuration: its control socket answers ping (a socket
# file without sipwallctl to ask counts as running; a stale one left by a crash does not).
dataplane_running() {
  [[ -S $CONTROL ]] || return 1
  command -v "$CTL" >/dev/null || return 0
  "$CTL" --socket "$CONTROL" ping >/dev/null 2>&1
}

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
case $cmd in
  export)
    [[ $# -le 1 ]] || usage
    archive=${1:-/var/backups/sipwall/sipwall-$(hostname)-$(date -u +%Y%m%d-%H%M%S).tar.gz}
    export_to "$archive"
    echo "exported $ETC and $( [[ -f $STATE ]] && echo "$STATE" || echo "no state file") to $archive"
    ;;
  list)
    [[ $# -eq 1 ]] || usage
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    unpack_verified "$1" "$work"
    grep -v '^sha256:' "$work/sipwall-backup/MANIFEST"
    (cd "$work/sipwall-backup" && find etc state -type f | sort)
    ;;
  import)
    [[ $# -ge 1 && $# -le 2 ]] || usage
    archive=$1
    force=0
    [[ ${2:-} == "" || ${2:-} == --force ]] || usage
    [[ ${2:-} == --force ]] && force=1
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    unpack_verified "$archive" "$work"
    check_staged "$work"
    restore_state=1
    if [[ -f $work/sipwall-backup/state/dynamic.state ]] && dataplane_running; then
      [[ $force -eq 1 ]] ||
        die "sipwall-dataplane is running and would overwrite the restored state file: stop it first, or --force to restore all but the state"
      restore_state=0
      echo "warning: sipwall-dataplane is running: state file not restored"
    fi
    # The current files first, so an import can be undone with another import.
    if [[ -d $ETC ]]; then
      before=$(dirname "$ETC")/$(basename "$ETC").before-import-$(date -u +%Y%m%d-%H%M%S).tar.gz
      export_to "$before"
      echo "the files replaced are kept in $before"
    fi
    mkdir -p "$ETC"
    cp -r --preserve=mode,timestamps "$work/sipwall-backup/etc/." "$ETC/"
    extra=$(comm -13 <(cd "$work/sipwall-backup/etc" && find . -type f | sort) \
                     <(cd "$ETC" && find . -type f | sort))
    [[ -z $extra ]] || echo "left in place (not in the archive): ${extra//$'\n'/ }"
    if [[ $restore_state -eq 1 && -f $work/sipwall-backup/state/dynamic.state ]]; then
      mkdir -p "$(dirname "$STATE")"
      cp "$work/sipwall-backup/state/dynamic.state" "$STATE.tmp"
      mv "$STATE.tmp" "$STATE"
      echo "state restored to $STATE (loaded when sipwall-dataplane starts)"
    fi
    echo "restored $ETC from $archive; reload or restart: systemctl restart sipwall-dataplane"
    ;;
  -h|--help) usage ;;
  *) usage ;;
esac
