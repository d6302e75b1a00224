package a64

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestEncodersLLVM emits every encoder, in each of its forms, and checks
// the words against llvm-mc (skipped without it). The generators' golden
// lists cover only the forms they use; this covers the rest.
func TestEncodersLLVM(t *testing.T) {
	words := map[string]string{}
	a := New(words)
	for _, f := range []func(d, n, m int){a.Add8h, a.Add4s, a.Sub4s, a.Addp4s, a.And16b, a.Orr16b,
		a.Sqadd4s, a.Sqadd8h, a.Sshl4s, a.Srshl4s, a.Srshl2d, a.Smax16b, a.Smin16b, a.Smax4s, a.Smin4s,
		a.Sqrdmulh4s, a.Fadd4s, a.Fmax4s, a.Fmin4s} {
		f(1, 2, 31)
	}
	for _, hi := range []bool{false, true} {
		for size := uint32(0); size < 3; size++ {
			a.Smull(hi, size, 3, 4, 5)
			a.Smlal(hi, size, 3, 4, 5)
			a.Saddw(hi, size, 3, 4, 5)
			a.Xtn(hi, size, 6, 7)
			a.Sqxtn(hi, size, 6, 7)
			a.Sxtl(hi, size, 6, 7)
		}
		a.SmlalLane(hi, 8, 9, 15, 7)
	}
	for _, s := range []int{1, 16, 31, 32} {
		a.Sshr4s(10, 11, s)
		a.Ssra4s(10, 11, s)
	}
	for i := 0; i < 4; i++ {
		a.FmlaLane(12, 13, 14, i)
		a.SdotLane(12, 13, 14, i)
		a.DupS(12, 13, i)
		a.Tbl16b(18, 30-i, i+1, 19)
	}
	a.Sdot16b(28, 16, 0)
	a.Sadalp4s(16, 17)
	if !bytes.Contains(a.Bytes(), []byte("\tWORD $0x")) {
		t.Fatal("no WORD emitted")
	}

	mc, err := exec.LookPath("llvm-mc")
	if err != nil {
		t.Skip("llvm-mc not found")
	}
	var mns []string
	for mn := range words {
		mns = append(mns, mn)
	}
	sort.Strings(mns)
	cmd := exec.Command(mc, "-triple=aarch64", "-mattr=+dotprod,+i8mm", "-show-encoding")
	cmd.Stdin = strings.NewReader(strings.Join(mns, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("llvm-mc: %v\n%s", err, stderr.String())
	}
	encRE := regexp.MustCompile(`encoding: \[0x([0-9a-f]{2}),0x([0-9a-f]{2}),0x([0-9a-f]{2}),0x([0-9a-f]{2})\]`)
	var encs []string
	for _, line := range strings.Split(string(out), "\n") {
		if m := encRE.FindStringSubmatch(line); m != nil {
			encs = append(encs, fmt.Sprintf("0x%s%s%s%s", m[4], m[3], m[2], m[1]))
		}
	}
	if len(encs) != len(mns) {
		t.Fatalf("llvm-mc gave %d encodings for %d mnemonics:\n%s", len(encs), len(mns), out)
	}
	for i, mn := range mns {
		if encs[i] != words[mn] {
			t.Errorf("%s: encoded %s, llvm-mc %s", mn, words[mn], encs[i])
		}
	}
	t.Logf("%d encodings verified with %s", len(mns), mc)
}
