#!/usr/bin/env bash
# The unit's sandbox: `systemd-analyze security --offline=yes` must rate its
# overall exposure at MAX (default 2.0) or lower. --offline reads the unit file
# itself, so neither a running systemd nor an installed unit is needed
# (systemd >= 250; Debian 12 has 252).
#   unit_security.sh UNIT_FILE [MAX]
set -euo pipefail
unit=$1
max=${2:-2.0}

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "unit_security: FAIL: systemd-analyze not found (Debian: apt-get install systemd)" >&2
  exit 1
fi

# Exit status is not enough: systemd-analyze returns 0 for an unsupported
# option on some versions, so read the score it prints.
out=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1) || true
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9]\+\.[0-9]\+\).*/\1/p' <<<"$out" | tail -n1)
if [[ -z $score ]]; then
  echo "$out"
  echo "unit_security: FAIL: no exposure level in the output of systemd-analyze security --offline=yes"
  exit 1
fi

# Both are one-decimal numbers: compare them in tenths.
tenths() { local v=$1; echo $((10#${v%.*} * 10 + 10#${v#*.})); }
if (($(tenths "$score") > $(tenths "$max"))); then
  # Only the settings that add to the exposure.
  grep '✗' <<<"$out" || true
  echo "unit_security: FAIL: exposure $score > $max for $(basename "$unit")"
  exit 1
fi
echo "unit_security: OK: exposure $score <= $max for $(basename "$unit")"
