package main

import (
	"fmt"
	"io"
	goruntime "runtime"
	rtdebug "runtime/debug"
)

// version is set at link time: go build -ldflags "-X main.version=v1.2.3".
var version = ""

// commit and date are set at link time by make dist (-X main.commit=…
// -X main.date=…): the source revision and the build time (UTC).
var commit, date = "", ""

func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "", stderr)
	deps := fs.Bool("deps", false, "also list the module dependencies")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v := version
	bi, ok := rtdebug.ReadBuildInfo()
	if v == "" && ok {
		v = bi.Main.Version
	}
	if v == "" {
		v = "(devel)"
	}
	fmt.Fprintf(stdout, "edgeinfer %s\n", v)
	if commit != "" {
		fmt.Fprintf(stdout, "commit       %s\n", commit)
	}
	if date != "" {
		fmt.Fprintf(stdout, "built        %s\n", date)
	}
	fmt.Fprintf(stdout, "go           %s %s/%s\n", goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
	if !ok {
		return nil
	}
	if bi.Main.Path != "" {
		fmt.Fprintf(stdout, "module       %s %s\n", bi.Main.Path, bi.Main.Version)
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision", "vcs.time", "vcs.modified", "GOARM", "GOAMD64", "GOARM64", "CGO_ENABLED", "-tags":
			fmt.Fprintf(stdout, "%-12s %s\n", s.Key, s.Value)
		}
	}
	if *deps {
		for _, d := range bi.Deps {
			fmt.Fprintf(stdout, "dep          %s %s\n", d.Path, d.Version)
		}
	}
	return nil
}
