package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// hiddenFlags are registered but left out of -h: developer tools.
var hiddenFlags = map[string]bool{"cpuprofile": true}

// printDefaults prints fs's flags as flag.PrintDefaults does, without the
// hidden ones.
func printDefaults(fs *flag.FlagSet, w io.Writer) {
	shown := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	shown.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		if !hiddenFlags[f.Name] {
			shown.Var(f.Value, f.Name, f.Usage)
			shown.Lookup(f.Name).DefValue = f.DefValue // not a value parsed before -h
		}
	})
	shown.PrintDefaults()
}

// startCPUProfile starts profiling the CPU into path and returns the
// function that stops it and closes the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
