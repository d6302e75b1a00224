#!/bin/sh
# icount.sh CPU BIN BENCH MACS [N1 N2]: instructions per benchmark iteration
# of the Go benchmark BENCH (an anchored -test.bench pattern) in the test
# binary BIN under qemu-aarch64 -cpu CPU, from two iteration counts (this
# cancels start-up and set-up), and MACs per instruction for MACS MACs per
# iteration. Prints one Markdown table row.
#
# N1 must be at least 2: with -test.benchtime Nx the testing package runs
# the benchmark function once with b.N = 1 and, for N > 1, again with
# b.N = N (set-up included), so N1 = 1 would leave a whole extra call in
# the difference.
set -eu
[ "${5:-2}" -ge 2 ] || { echo "icount.sh: N1 must be >= 2" >&2; exit 2; }
cpu=$1 bin=$2 bench=$3 macs=$4 n1=${5:-2} n2=${6:-12}
icount=${ICOUNT:-../shared/tools/qemu-icount/icount}
count() {
	"$icount" -cpu "$cpu" -- "$bin" -test.run XXX -test.bench "$bench" -test.benchtime "${1}x" -test.cpu 1 2>&1 >/dev/null |
		awk '/^icount:/ {print $2}'
}
c1=$(count "$n1")
c2=$(count "$n2")
awk -v c1="$c1" -v c2="$c2" -v d="$((n2 - n1))" -v macs="$macs" -v cpu="$cpu" -v b="$bench" 'BEGIN {
	per = (c2 - c1) / d
	printf "| %s | %s | %.0f | %.2f |\n", b, cpu, per, (macs > 0 ? macs / per : 0)
}'
