#!/bin/bash
# The in-process bulk load beside the C floor, phase by phase (report.timing), in a kernel with
# IPVS (here: the lab VM):   bash test/lab/vm.sh -- bash bench/profile/load.sh [N]
# Three cold trials of bench/ipvs.mjs's 'lvskit batch()' and 'C floor' at N x 4 (default 1000),
# each in a fresh namespace, then one lvskit trial under node --cpu-prof (build/profile/load/).
set -e
cd "$(dirname "$0")/../.."
N=${1:-1000}
trial() { local ns=lvskit-prof-$$-$RANDOM; ip netns add $ns; ip -n $ns link set lo up; ip netns exec $ns node "$@" | tail -1; ip netns del $ns; }
for k in 1 2 3; do
  trial bench/ipvs.mjs --trial ipvs-load-$N 'lvskit batch()'
  trial bench/ipvs.mjs --trial ipvs-load-$N 'C floor (batched genetlink)'
done
rm -rf build/profile/load
trial --cpu-prof --cpu-prof-dir=build/profile/load bench/ipvs.mjs --trial ipvs-load-$N 'lvskit batch()'
