#!/bin/busybox sh
# /init of the VM test's initramfs (test/vm/run.sh builds it): runs
# edgeinfer against the kernel's vivid camera and the virt machine's PL061
# GPIO controller, prints one "VMTEST PASS|FAIL name: detail" line per
# check and "VMSUM ..." summary lines on the console, and powers off. The
# host script parses the console log.
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin HOME=/ TERM=dumb
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp

# Settings the host passes on the kernel command line (edgeinfer.KEY=V).
FRAMES=8
MODEL=zoo:lenet5
for a in $(cat /proc/cmdline); do
	case "$a" in
	edgeinfer.frames=*) FRAMES=${a#*=} ;;
	edgeinfer.model=*) MODEL=${a#*=} ;;
	esac
done
LABELS=/etc/edgeinfer/labels.txt
CHIP=/dev/gpiochip0
LINE=0
failed=0

pass() { echo "VMTEST PASS $1: $2"; }
fail() {
	echo "VMTEST FAIL $1: $2"
	failed=1
}
sum() { echo "VMSUM $*"; }
# show FILE: the output of a run, indented, for the log.
show() { sed 's/^/    | /' "$1"; }

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
	t=$(($1 * 5))
	shift
	while [ "$t" -gt 0 ]; do
		"$@" && return 0
		usleep 200000
		t=$((t - 1))
	done
	return 1
}

# frames_seen FILE: the number of per-frame lines edgeinfer printed.
frames_seen() { grep -c '^frame ' "$1" 2>/dev/null || true; }
has_frames() { [ "$(frames_seen "$1")" -ge "$2" ]; }

# stop PID SECONDS: SIGTERM, then wait; SIGKILL after SECONDS (a hang).
# Sets rc to the exit status (137 after the SIGKILL).
stop() {
	kill -TERM "$1" 2>/dev/null
	(sleep "$2" && kill -KILL "$1" 2>/dev/null) &
	w=$!
	wait "$1"
	rc=$?
	kill "$w" 2>/dev/null
	wait "$w" 2>/dev/null
}

# await PID SECONDS: waits for PID to exit by itself, SIGKILL after
# SECONDS. Sets rc.
await() {
	(sleep "$2" && kill -KILL "$1" 2>/dev/null) &
	w=$!
	wait "$1"
	rc=$?
	kill "$w" 2>/dev/null
	wait "$w" 2>/dev/null
}

# gpio_debugfs: the level ("hi"/"lo") and direction gpiolib's debugfs
# reports for line LINE of gpiochip0 (its value is read from the PL061's
# data register by the driver). Empty while the line is not requested.
gpio_debugfs() {
	awk -v line="$LINE" '
		/^gpiochip/ { inchip = ($1 == "gpiochip0:"); split($3, r, "-"); base = r[1]; next }
		inchip && $1 == "gpio-" (base + line) { sub(/.*\) /, ""); print; exit }
	' /sys/kernel/debug/gpio
}
gpio_is() { gpio_debugfs | grep -q "$1"; }

echo "VMTEST BEGIN kernel $(uname -r) on $(uname -m), $(nproc) CPUs, model $MODEL"

# ---- board
if edgeinfer board >/tmp/board.out 2>&1; then
	cpu=$(grep '^cpu ' /tmp/board.out | sed 's/^cpu *//')
	if grep -qi 'cortex-a72' /tmp/board.out && grep -q "$(nproc)× " /tmp/board.out; then
		pass board "$cpu"
	else
		show /tmp/board.out
		fail board "no Cortex-A72 with $(nproc) cores in the report: $cpu"
	fi
	sum "board: $(grep '^board ' /tmp/board.out | sed 's/^board *//'); cpu $cpu; $(grep '^kernels ' /tmp/board.out | sed 's/^kernels *//')"
else
	show /tmp/board.out
	fail board "edgeinfer board exited non-zero"
fi

# ---- camera
if modprobe vivid && wait_for 10 test -c /dev/video0; then
	pass modprobe "vivid loaded: $(ls /dev/video* | tr '\n' ' ')"
else
	fail modprobe "modprobe vivid gave no /dev/video0"
fi

# capture FORMAT: FRAMES frames in FORMAT, classified.
capture() {
	f=$1
	timeout -s KILL 300 edgeinfer run --model "$MODEL" --labels "$LABELS" --camera /dev/video0 \
		--camera-format "$f" --camera-size 640x480 --fps 15 --frames "$FRAMES" --top 3 >/tmp/$f.out 2>&1
	rc=$?
	show /tmp/$f.out
	mode=$(grep '^camera ' /tmp/$f.out | sed 's/^camera *//')
	got=$(sed -n 's/^frames *\([0-9]*\) classified.*/\1/p' /tmp/$f.out)
	first=$(grep -m1 '^frame ' /tmp/$f.out | sed 's/^frame *[0-9]* *[0-9:.]* *//')
	lat=$(grep '^latency ' /tmp/$f.out | sed 's/^latency *//')
}

capture yuyv
if [ "$rc" = 0 ] && [ "$got" = "$FRAMES" ]; then
	pass yuyv "$got frames: $mode"
else
	fail yuyv "exit $rc, ${got:-no} frames classified (want $FRAMES)"
fi
sum "frames yuyv: ${got:-0} captured and classified ($mode)"
sum "prediction yuyv frame 0: $first"
sum "latency yuyv: $lat"

capture mjpeg
if [ "$rc" = 0 ] && [ "$got" = "$FRAMES" ]; then
	pass mjpeg "$got frames: $mode"
	sum "frames mjpeg: $got captured and classified ($mode)"
	sum "prediction mjpeg frame 0: $first"
elif [ "$rc" = 1 ] && grep -q 'does not offer MJPG' /tmp/mjpeg.out; then
	pass mjpeg "vivid offers no MJPEG; edgeinfer refused it cleanly"
	sum "frames mjpeg: 0 (vivid offers no MJPEG: $(sed -n 's/.*it offers //p' /tmp/mjpeg.out))"
else
	fail mjpeg "exit $rc, ${got:-no} frames classified"
fi

# ---- GPIO: the condition holds on every frame (a softmax score >= 0),
# so the line goes high; SIGTERM ends the run cleanly and drives it low.
# The level is read from the kernel: gpiolib's debugfs while edgeinfer
# holds the line, the GPIO character device (vmcheck) after.
if [ ! -c "$CHIP" ]; then
	fail gpio "no $CHIP (the virt machine's PL061)"
fi
sum "gpio chip: $(grep -m1 '^gpiochip0:' /sys/kernel/debug/gpio | sed 's/:$//'), line $LINE"
edgeinfer run --model "$MODEL" --labels "$LABELS" --camera /dev/video0 --camera-size 320x240 \
	--on 'zero>=0' --gpio "gpiochip0:$LINE" --top 1 >/tmp/gpio.out 2>&1 &
pid=$!
if wait_for 120 has_frames /tmp/gpio.out 2 && wait_for 10 gpio_is 'out hi'; then
	hi=$(gpio_debugfs)
	info=$(vmcheck info $CHIP $LINE 2>&1)
	pass gpio-high "debugfs: $hi; $info"
else
	hi=$(gpio_debugfs)
	fail gpio-high "line not high while 'zero>=0' holds (debugfs: ${hi:-not requested})"
fi
n=$(frames_seen /tmp/gpio.out)
stop $pid 30
show /tmp/gpio.out
if [ "$rc" = 0 ] && grep -q '^frames .* classified' /tmp/gpio.out; then
	pass sigterm "exit 0 after $n+ frames, summary: $(grep '^frames ' /tmp/gpio.out | sed 's/^frames *//')"
else
	fail sigterm "exit $rc after SIGTERM (137: it hung and was killed)"
fi
lo=$(vmcheck get $CHIP $LINE 2>&1)
info2=$(vmcheck info $CHIP $LINE 2>&1)
case "$lo" in
*value=0*) pass gpio-low "after exit: $lo; $info2" ;;
*) fail gpio-low "after exit: $lo" ;;
esac
sum "gpio line $LINE while 'zero>=0' holds: ${hi:-?} (debugfs), $info"
sum "gpio line $LINE after SIGTERM: $lo (character device), $info2"
sum "sigterm: exit $rc"

# The condition never holds: the line is held, as an output, low.
edgeinfer run --model "$MODEL" --labels "$LABELS" --camera /dev/video0 --camera-size 320x240 \
	--on 'zero>1' --gpio "gpiochip0:$LINE" --top 1 >/tmp/gpiolo.out 2>&1 &
pid=$!
if wait_for 120 has_frames /tmp/gpiolo.out 2 && gpio_is 'out lo'; then
	pass gpio-held-low "debugfs: $(gpio_debugfs)"
	sum "gpio line $LINE while 'zero>1' (never) is evaluated: $(gpio_debugfs) (debugfs)"
else
	fail gpio-held-low "debugfs: $(gpio_debugfs)"
fi
stop $pid 30
[ "$rc" = 0 ] || fail gpio-held-low "exit $rc after SIGTERM"

# ---- the scene changes mid-run: vivid's test pattern (a V4L2 control,
# set through another file descriptor while edgeinfer streams) switches
# between black and white. A condition that holds on white only, on the
# class whose score differs most between the two, must raise the line
# and drop it again within one run, and --exec must run once.
PATTERN=0xf0f000 # VIVID_CID_TEST_PATTERN: 5 is 100% black, 6 100% white
OSD=0xf0f001     # VIVID_CID_OSD_TEXT_MODE: 2 is no text, so frames repeat
BLACK=5
WHITE=6
# scores P FILE: "label score" of every class for test pattern P.
scores() {
	vmcheck ctrl /dev/video0 $PATTERN "$1"
	timeout -s KILL 120 edgeinfer run --model "$MODEL" --labels "$LABELS" --camera /dev/video0 \
		--camera-size 320x240 --frames 2 --top 10 >/tmp/p$1.out 2>&1
	grep '^frame ' /tmp/p$1.out | tail -1 | sed 's/.*ms) *//' | tr '|' '\n' | awk 'NF == 2 { print $1, $2 }' >"$2"
}
vmcheck ctrl /dev/video0 $OSD 2
scores $BLACK /tmp/black.sc
scores $WHITE /tmp/white.sc
pick=$(awk 'NR == FNR { b[$1] = $2; next }
	($1 in b) { d = $2 - b[$1]; a = d < 0 ? -d : d; if (a > best) { best = a; l = $1; bs = b[$1]; ws = $2 } }
	END { if (best >= 0.01) printf "%s%s%.4f %s %s\n", l, (ws > bs ? ">=" : "<="), (bs + ws) / 2, bs, ws }' /tmp/black.sc /tmp/white.sc)
if [ -z "$pick" ]; then
	show /tmp/p$BLACK.out
	show /tmp/p$WHITE.out
	fail gpio-toggle "no class's score differs by 0.01 between black and white frames"
else
	set -- $pick
	cond=$1
	vmcheck ctrl /dev/video0 $PATTERN $BLACK
	rm -f /tmp/edges
	edgeinfer run --model "$MODEL" --labels "$LABELS" --camera /dev/video0 --camera-size 320x240 \
		--on "$cond" --gpio "gpiochip0:$LINE" --exec 'echo "$EDGEINFER_FRAME $EDGEINFER_CLASS $EDGEINFER_SCORE" >>/tmp/edges' \
		--top 1 >/tmp/toggle.out 2>&1 &
	pid=$!
	steps=""
	if wait_for 120 has_frames /tmp/toggle.out 2 && gpio_is 'out lo'; then
		steps="black: $(gpio_debugfs)"
		vmcheck ctrl /dev/video0 $PATTERN $WHITE
		if wait_for 60 gpio_is 'out hi'; then
			steps="$steps -> white: $(gpio_debugfs)"
			vmcheck ctrl /dev/video0 $PATTERN $BLACK
			if wait_for 60 gpio_is 'out lo'; then
				steps="$steps -> black: $(gpio_debugfs)"
			else
				steps="$steps -> black: still $(gpio_debugfs)"
				fail gpio-toggle "$steps"
			fi
		else
			steps="$steps -> white: still $(gpio_debugfs)"
			fail gpio-toggle "$steps"
		fi
	else
		fail gpio-toggle "not low on black frames: $(gpio_debugfs)"
	fi
	stop $pid 30
	show /tmp/toggle.out
	rises=$(wc -l </tmp/edges 2>/dev/null || echo 0)
	case "$steps" in
	*"-> black: out lo"*)
		if [ "$rc" = 0 ] && [ "$rises" = 1 ]; then
			pass gpio-toggle "$cond (black $2, white $3): $steps; --exec ran once: $(cat /tmp/edges)"
		else
			fail gpio-toggle "exit $rc, --exec ran $rises times (want 1)"
		fi
		;;
	esac
	sum "gpio toggle in one run, $cond (score black $2, white $3): $steps (debugfs); --exec on the rising edge ran $rises time(s)"
fi
vmcheck ctrl /dev/video0 $PATTERN 0
vmcheck ctrl /dev/video0 $OSD 0

# ---- fault: the camera is unbound mid-stream. edgeinfer must report it
# and exit non-zero, promptly, and leave the pin low.
edgeinfer run --model "$MODEL" --labels "$LABELS" --camera /dev/video0 --camera-size 320x240 \
	--on 'zero>=0' --gpio "gpiochip0:$LINE" --top 1 >/tmp/fault.out 2>&1 &
pid=$!
if wait_for 120 has_frames /tmp/fault.out 3; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	echo vivid.0 >/sys/bus/platform/drivers/vivid/unbind
	await $pid 60
	t1=$(cut -d' ' -f1 /proc/uptime)
	show /tmp/fault.out
	msg=$(grep -m1 '^edgeinfer run:' /tmp/fault.out)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	if [ "$rc" != 0 ] && [ "$rc" != 137 ] && echo "$msg" | grep -q '/dev/video0: the device is gone'; then
		pass unbind "exit $rc after ${secs}s: $msg"
	else
		fail unbind "exit $rc after ${secs}s (137: it hung and was killed): ${msg:-no error message}"
	fi
	sum "unbind fault: exit $rc after ${secs}s, $(frames_seen /tmp/fault.out) frames before; $msg"
	lo=$(vmcheck get $CHIP $LINE 2>&1)
	case "$lo" in
	*value=0*) pass unbind-gpio-low "$lo" ;;
	*) fail unbind-gpio-low "after the fault: $lo" ;;
	esac
	sum "gpio line $LINE after the fault: $lo"
else
	stop $pid 30
	show /tmp/fault.out
	fail unbind "no frames before the unbind"
fi

# The camera comes back: bind it again and capture.
echo vivid.0 >/sys/bus/platform/drivers/vivid/bind
if wait_for 10 test -c /dev/video0 &&
	timeout -s KILL 120 edgeinfer run --model "$MODEL" --camera /dev/video0 --camera-size 320x240 --frames 3 --top 1 >/tmp/rebind.out 2>&1; then
	pass rebind "$(grep '^frames ' /tmp/rebind.out | sed 's/^frames *//')"
else
	show /tmp/rebind.out
	fail rebind "no capture after binding vivid.0 again"
fi
# Every file and buffer was released: the module unloads.
if rmmod vivid; then
	pass rmmod "vivid unloaded"
else
	fail rmmod "rmmod vivid failed (a reference left behind?)"
fi

# ---- the kernel's own complaints
if dmesg | grep -E 'BUG:|WARNING:|Oops|Call trace:|Kernel panic|general protection' >/tmp/kern.out; then
	show /tmp/kern.out
	fail kernel "the kernel logged a BUG/WARNING/Oops"
else
	pass kernel "no BUG, WARNING or Oops in dmesg"
fi

echo "VMTEST DONE failed=$failed uptime=$(cut -d' ' -f1 /proc/uptime)s"
sync
poweroff -f
