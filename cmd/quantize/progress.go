package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows calibration and evaluation progress on stderr: a
// progress bar with rate and ETA on a terminal (schollz/progressbar), and
// plain lines at every 10 % otherwise (logs, CI).
type progress struct {
	w     io.Writer
	tty   bool
	stage string
	bar   *progressbar.ProgressBar
	start time.Time
	step  int // next plain-line percentage
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		p.tty = term.IsTerminal(int(f.Fd()))
	}
	return p
}

// update is ptq.Options.Progress; calls are serialised by ptq.
func (p *progress) update(stage string, done, total int) {
	if stage != p.stage {
		p.finish()
		p.stage, p.start, p.step = stage, time.Now(), 10
		if p.tty {
			p.bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription(fmt.Sprintf("%-9s", stage)),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("samples"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetElapsedTime(true),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
			)
		}
	}
	if p.bar != nil {
		_ = p.bar.Set(done)
		return
	}
	if pct := 100 * done / total; pct >= p.step || done == total {
		el := time.Since(p.start)
		eta := time.Duration(float64(el) / float64(done) * float64(total-done))
		fmt.Fprintf(p.w, "%s: %d/%d samples (%d%%), %s elapsed, ETA %s\n", stage, done, total, pct,
			el.Round(100*time.Millisecond), eta.Round(100*time.Millisecond))
		p.step = (pct/10 + 1) * 10
	}
}

// finish ends the current bar.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
