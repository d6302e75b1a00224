// Command edgeinfer runs, inspects and benchmarks CNN models with the
// edgeinfer runtime.
//
//	edgeinfer run   --model M [--input FILE]... [--top K] [--labels FILE] [--json] …
//	edgeinfer info  --model M
//	edgeinfer bench --model M [--runs N] [--warmup N] [--profile]
//	edgeinfer board [--profile ID] [--list]
//	edgeinfer version
//
// M is an ONNX file (model.onnx) or a built-in zoo model
// (zoo:mobilenet_v2, zoo:mobilenet_v1?alpha=0.5&res=160). Run
// "edgeinfer COMMAND -h" for a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	rtdebug "runtime/debug"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1 // the command failed (bad file, unsupported model …)
	exitUsage    = 2 // bad command line
	exitInternal = 3 // a bug: a recovered panic
)

// errUsage marks command-line errors; the flag set has printed the details.
var errUsage = errors.New("usage")

type command struct {
	name, args, summary string
	run                 func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"run", "--model M [--input FILE]... [flags]", "run a model on inputs (or a built-in test pattern) and print the top classes", cmdRun},
	{"info", "--model M", "describe a model: inputs, outputs, operators, parameters, MACs, memory plan", cmdInfo},
	{"bench", "--model M [--runs N] [--warmup N] [--profile]", "measure latency, optionally per layer", cmdBench},
	{"board", "[--profile ID] [--list] [--json]", "describe this board (or a named profile): SoC, CPU, features, caches, threads, QEMU model, thermal state, kernels", cmdBoard},
	{"version", "", "print version and build information", cmdVersion},
}

// run is the whole command: it parses args (without the program name),
// writes results to stdout and diagnostics to stderr, and returns the exit
// status.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "edgeinfer: internal error: %v\n%s", r, rtdebug.Stack())
			code = exitInternal
		}
	}()
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errUsage):
			return exitUsage
		}
		fmt.Fprintf(stderr, "edgeinfer %s: %v\n", name, err)
		return exitError
	}
	fmt.Fprintf(stderr, "edgeinfer: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "edgeinfer runs CNN models on the CPU.\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  edgeinfer %-7s %s\n", c.name, c.args)
		fmt.Fprintf(w, "        %s\n", c.summary)
	}
	fmt.Fprintf(w, "\nModels: a path to an .onnx or .tflite file, or zoo:NAME[?key=value&...] for a built-in\n"+
		"model with deterministic random weights (zoo names: %s).\n"+
		"Run 'edgeinfer COMMAND -h' for a command's flags.\n", strings.Join(zooNames(), ", "))
}

// newFlagSet returns a flag set that reports errors through stderr and
// returns them instead of exiting.
func newFlagSet(name, args string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("edgeinfer "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: edgeinfer %s %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs and rejects positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q (flags come as --name value)\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
