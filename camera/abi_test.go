package camera

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// abiProgram prints the videodev2.h layout as "field value" lines, one per
// abiLayout field, so the output parses into an abiLayout.
const abiProgram = `#include <stdio.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <linux/videodev2.h>
#define S(name, type) printf("%s %lu\n", name, (unsigned long)sizeof(type))
#define O(name, type, field) printf("%s %lu\n", name, (unsigned long)offsetof(type, field))
#define I(name) printf("%s %lu\n", #name, (unsigned long)(unsigned int)(name))
int main(void) {
	S("SizeofCapability", struct v4l2_capability);
	S("SizeofPixFormat", struct v4l2_pix_format);
	S("SizeofFormat", struct v4l2_format);
	S("SizeofRequestBufs", struct v4l2_requestbuffers);
	S("SizeofBuffer", struct v4l2_buffer);
	S("SizeofFmtdesc", struct v4l2_fmtdesc);
	S("SizeofStreamParm", struct v4l2_streamparm);
	S("SizeofFrmSizeEnum", struct v4l2_frmsizeenum);
	O("OffsetFormatFmt", struct v4l2_format, fmt);
	O("OffsetBufTimestamp", struct v4l2_buffer, timestamp);
	O("OffsetBufTimecode", struct v4l2_buffer, timecode);
	O("OffsetBufSequence", struct v4l2_buffer, sequence);
	O("OffsetBufMemory", struct v4l2_buffer, memory);
	O("OffsetBufM", struct v4l2_buffer, m);
	O("OffsetBufLength", struct v4l2_buffer, length);
	O("OffsetBufRequestFD", struct v4l2_buffer, request_fd);
	O("OffsetFmtdescPixFmt", struct v4l2_fmtdesc, pixelformat);
	O("OffsetCapDeviceCaps", struct v4l2_capability, device_caps);
	I(VIDIOC_QUERYCAP);
	I(VIDIOC_ENUM_FMT);
	I(VIDIOC_G_FMT);
	I(VIDIOC_S_FMT);
	I(VIDIOC_REQBUFS);
	I(VIDIOC_QUERYBUF);
	I(VIDIOC_QBUF);
	I(VIDIOC_DQBUF);
	I(VIDIOC_STREAMON);
	I(VIDIOC_STREAMOFF);
	I(VIDIOC_G_PARM);
	I(VIDIOC_S_PARM);
	I(VIDIOC_ENUM_FRAMESIZES);
	return 0;
}
`

// parseLayout reads the program's output into an abiLayout, requiring
// every field exactly once.
func parseLayout(t *testing.T, out []byte) abiLayout {
	t.Helper()
	var l abiLayout
	v := reflect.ValueOf(&l).Elem()
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		require.True(t, ok, "line %q", sc.Text())
		n, err := strconv.ParseUint(val, 10, 64)
		require.NoError(t, err, "line %q", sc.Text())
		f := v.FieldByName(name)
		require.True(t, f.IsValid(), "unknown field %s", name)
		f.SetUint(n)
		seen[name] = true
	}
	require.Len(t, seen, v.NumField(), "the C program must print every abiLayout field")
	return l
}

// compileABI compiles abiProgram with cc (extra flags appended) and runs
// it, through runner when it is not empty (qemu-user for a cross
// binary). It skips when the compiler or the header is missing.
func compileABI(t *testing.T, cc string, flags []string, runner ...string) abiLayout {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("%s not installed: cannot compile the videodev2.h layout program (apt-get install gcc linux-libc-dev, or the cross compiler)", cc)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "abi.c")
	require.NoError(t, os.WriteFile(src, []byte(abiProgram), 0o644))
	bin := filepath.Join(dir, "abi")
	out, err := exec.Command(cc, append(append([]string{}, flags...), "-o", bin, src)...).CombinedOutput()
	if err != nil {
		if bytes.Contains(out, []byte("videodev2.h")) || bytes.Contains(out, []byte("No such file")) {
			t.Skipf("%s cannot find linux/videodev2.h (apt-get install linux-libc-dev): %s", cc, out)
		}
		t.Fatalf("%s: %v\n%s", cc, err, out)
	}
	args := []string{bin}
	if len(runner) > 0 {
		if _, err := exec.LookPath(runner[0]); err != nil {
			t.Skipf("%s not installed: cannot run the %s binary", runner[0], cc)
		}
		args = append(append([]string{}, runner...), bin)
	}
	out, err = exec.Command(args[0], args[1:]...).Output()
	require.NoError(t, err, "running %v", args)
	return parseLayout(t, out)
}

// TestABIFormulas recomputes every architecture's ioctl numbers from its
// struct sizes with the _IOC formula and checks the literal table.
func TestABIFormulas(t *testing.T) {
	for arch, l := range abiLayouts {
		require.Equal(t, l.withIoctls(), l, "%s: ioctl numbers differ from _IOWR/_IOR/_IOW over the struct sizes", arch)
	}
	// Hand-checked: VIDIOC_QBUF = _IOWR('V', 15, struct v4l2_buffer).
	require.Equal(t, uint32(3<<30|88<<16|'V'<<8|15), abiLayouts["arm64"].VIDIOC_QBUF)
	require.Equal(t, uint32(3<<30|68<<16|'V'<<8|15), abiLayouts["arm"].VIDIOC_QBUF)
	require.Equal(t, uint32(2<<30|104<<16|'V'<<8|0), ior('V', 0, 104))
	require.Equal(t, uint32(1<<30|4<<16|'V'<<8|18), iow('V', 18, 4))
	// The size field is 14 bits wide.
	require.Less(t, abiLayouts["amd64"].SizeofFormat, uintptr(1<<iocSizeBits))
}

// TestABIGoStructs checks the Go declarations on the running
// architecture against its table entry. Run it for arm and arm64 too:
//
//	GOARCH=arm64 go test -exec qemu-aarch64 -run ABI ./camera/
//	GOARCH=arm GOARM=7 go test -exec qemu-arm -run ABI ./camera/
func TestABIGoStructs(t *testing.T) {
	want, ok := abiLayouts[runtime.GOARCH]
	if !ok {
		t.Skipf("no literal V4L2 layout for GOARCH=%s; the code derives it from the Go structs", runtime.GOARCH)
	}
	require.Equal(t, want, goLayout(), "Go struct layout on %s", runtime.GOARCH)
	require.Equal(t, want, abi)
}

// TestABIHostGCC compares the table entry for the host architecture with
// what gcc computes from the installed linux/videodev2.h.
func TestABIHostGCC(t *testing.T) {
	want, ok := abiLayouts[runtime.GOARCH]
	if !ok {
		t.Skipf("no literal V4L2 layout for GOARCH=%s", runtime.GOARCH)
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed: cannot compile the videodev2.h layout program (apt-get install gcc linux-libc-dev)")
	}
	// Under qemu-user (go test -exec qemu-aarch64) gcc still targets the
	// machine, not GOARCH: TestABICross covers that case.
	machine, _ := exec.Command("gcc", "-dumpmachine").Output()
	target := map[string]string{"x86_64": "amd64", "aarch64": "arm64", "arm": "arm", "armv7l": "arm"}[strings.SplitN(string(machine), "-", 2)[0]]
	if target != runtime.GOARCH {
		t.Skipf("gcc targets %s, not GOARCH=%s", strings.TrimSpace(string(machine)), runtime.GOARCH)
	}
	got := compileABI(t, "gcc", nil)
	require.Equal(t, want, got, "gcc's videodev2.h layout on %s/%s", runtime.GOOS, runtime.GOARCH)
}

// TestABICross compiles the program for arm64 and 32-bit arm with the
// Debian cross compilers (gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf:
// they bring the target's linux/videodev2.h) and runs it under qemu-user.
// Without them it skips: the arm and arm64 entries are then checked only
// by TestABIFormulas and, natively or under qemu, TestABIGoStructs.
func TestABICross(t *testing.T) {
	for _, c := range []struct {
		arch, cc, qemu string
		flags          []string
	}{
		{"arm64", "aarch64-linux-gnu-gcc", "qemu-aarch64", nil},
		// The classic 32-bit time_t ABI that the table describes (see
		// abi.go); newer armhf userlands default to 64-bit time.
		{"arm", "arm-linux-gnueabihf-gcc", "qemu-arm", []string{"-U_TIME_BITS", "-D_TIME_BITS=32", "-U_FILE_OFFSET_BITS"}},
	} {
		t.Run(c.arch, func(t *testing.T) {
			got := compileABI(t, c.cc, append([]string{"-static"}, c.flags...), c.qemu)
			require.Equal(t, abiLayouts[c.arch], got, fmt.Sprintf("%s's videodev2.h layout", c.cc))
		})
	}
}
