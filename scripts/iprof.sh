#!/bin/sh
# iprof.sh CPU BIN BENCH [N1 N2]: instructions per benchmark iteration of
# each function of the arm64 Go test binary BIN, for the anchored
# -test.bench pattern BENCH under qemu-aarch64 -cpu CPU: two runs with the
# scripts/qemu/iprof.c plugin, subtracted by scripts/iprof (see icount.sh
# for why N1 >= 2). Extra environment (EDGEINFER_KERNELS...) passes through.
set -eu
cpu=$1 bin=$2 bench=$3 n1=${4:-2} n2=${5:-3}
here=$(cd "$(dirname "$0")" && pwd)
tmp=${TMPDIR:-/tmp}
lib=$tmp/libiprof.so
if [ ! -f "$lib" ] || [ "$here/qemu/iprof.c" -nt "$lib" ]; then
	cc -shared -fPIC -O2 -fvisibility=hidden -o "$lib" "$here/qemu/iprof.c" -lpthread
fi
go build -o "$tmp/iprof" "$here/iprof"
out=$(mktemp -d)
for n in "$n1" "$n2"; do
	GOGC=off qemu-aarch64 -cpu "$cpu" -plugin "$lib,out=$out/$n.out" "$bin" -test.run XXX \
		-test.bench "$bench" -test.benchtime "${n}x" -test.cpu 1 >/dev/null
done
"$tmp/iprof" -per "$((n2 - n1))" -top "${TOP:-25}" "$bin" "$out/$n1.out" "$out/$n2.out"
rm -r "$out"
