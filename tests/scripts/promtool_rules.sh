#!/usr/bin/env bash
# Check and unit-test the Prometheus alerting rules shipped in packaging/prometheus:
#   promtool check rules etcd-warden-rules.yml
#   promtool test rules  etcd-warden-rules.test.yml
# Exits non-zero if promtool is missing or either step fails; prints a one-line
# summary last. PROMTOOL=/path/to/promtool overrides the promtool on PATH.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$here/../../packaging/prometheus
rules=etcd-warden-rules.yml
tests=etcd-warden-rules.test.yml
promtool=${PROMTOOL:-promtool}

if ! command -v "$promtool" >/dev/null 2>&1; then
  echo "promtool_rules: FAIL: promtool not found (Debian: apt-get install prometheus)" >&2
  exit 1
fi
for f in "$rules" "$tests"; do
  if [[ ! -f $dir/$f ]]; then
    echo "promtool_rules: FAIL: $dir/$f missing" >&2
    exit 1
  fi
done

# The test file names the rules file relative to itself, so run from there.
cd "$dir" || exit 1

if ! check_out=$("$promtool" check rules "$rules" 2>&1); then
  echo "$check_out"
  echo "promtool_rules: FAIL: promtool check rules $rules"
  exit 1
fi
if ! test_out=$("$promtool" test rules "$tests" 2>&1); then
  echo "$test_out"
  echo "promtool_rules: FAIL: promtool test rules $tests"
  exit 1
fi

n_rules=$(grep -o '[0-9]\+ rules found' <<<"$check_out" | grep -o '^[0-9]\+')
n_cases=$(grep -c '^ *- eval_time:' "$tests")
echo "promtool_rules: OK: ${n_rules:-?} rules checked, $n_cases alert test cases passed ($($promtool --version 2>&1 | head -n1))"
