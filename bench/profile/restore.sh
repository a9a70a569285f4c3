#!/bin/bash
# Where `lvskit -R < rules` spends its time, in a kernel with IPVS (here: the lab VM):
#   bash test/lab/vm.sh -- bash bench/profile/restore.sh [N]
# Three paired whole-process timings of lvskit -R and ipvsadm -R (N services x 4, default 1000)
# into a fresh table each, then one run of lvskit -R under node --cpu-prof; the profile lands in
# build/profile/restore/ (summarise it with: node bench/profile/summary.mjs FILE).
set -e
cd "$(dirname "$0")/../.."
out=build/profile; mkdir -p $out
N=${1:-1000}
node bench/profile/rules.mjs "$N" $out/rules
ns=lvskit-prof-$$; ip netns add $ns; trap 'ip netns del $ns' EXIT; ip -n $ns link set lo up
t() { local s=$(date +%s%N); "$@" >/dev/null 2>&1; echo "$(( ($(date +%s%N)-s)/1000000 )) ms: ${*: -1}"; }
for k in 1 2 3; do
  t ip netns exec $ns sh -c "exec node dist/cli/main.js -R < $out/rules"; ip netns exec $ns ipvsadm -C
  t ip netns exec $ns sh -c "exec ipvsadm -R < $out/rules"; ip netns exec $ns ipvsadm -C
done
rm -rf $out/restore
ip netns exec $ns sh -c "exec node --cpu-prof --cpu-prof-dir=$out/restore dist/cli/main.js -R < $out/rules"
echo "profile: $(ls $out/restore/*.cpuprofile)"
