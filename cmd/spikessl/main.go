// Command spikessl computes the InfoNCE loss and CSDP updates on .npy files
// and runs the MNIST demo. Run "spikessl help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand of spikessl. Each file registers its commands
// with register in an init function.
type command struct {
	name    string
	summary string
	// run executes the command with the arguments after its name. An
	// error wrapping errUsage exits with status 2, any other with 1.
	run func(ctx context.Context, env *environment, args []string) error
}

// environment holds a command's output streams and logger.
type environment struct {
	stdout, stderr io.Writer
	// logger writes to stderr at warning level, or debug with --verbose.
	logger *slog.Logger
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("spikessl: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// errUsage marks errors caused by invalid input or usage (exit status 2).
var errUsage = errors.New("invalid usage")

// usageError wraps err so that it exits with status 2.
type usageError struct{ err error }

func (u usageError) Error() string            { return u.err.Error() }
func (u usageError) Unwrap() []error          { return []error{u.err, errUsage} }
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// asUsage marks err, if not nil, as invalid input (exit status 2).
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes spikessl with args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// --verbose may come before or after the command.
	level := slog.LevelWarn
	if i := indexOf(args, "--verbose"); i >= 0 {
		level = slog.LevelDebug
		args = append(args[:i:i], args[i+1:]...)
	}

	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) < 2 || commands[args[1]].name == "" {
			printHelp(stdout)
			return 0
		}
		// "spikessl help COMMAND" prints the command's flags.
		args = []string{args[1], "-h"}
	}

	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "spikessl: unknown command %q; run 'spikessl help' for the list\n", args[0])
		return 2
	}

	rest := args[1:]
	env := &environment{
		stdout: stdout,
		stderr: stderr,
		logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}

	err := c.run(ctx, env, rest)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}

	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	// Errors of a package named like the command, such as mnist, carry
	// its name already.
	msg = strings.TrimPrefix(msg, c.name+": ")
	fmt.Fprintf(stderr, "spikessl: %s: %s\n", c.name, msg)
	switch {
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errInterrupted):
		// 128 + SIGINT, as shells report a command that Ctrl-C stopped.
		return 130
	}
	return 1
}

// errInterrupted marks the error of a command that SIGINT or SIGTERM
// stopped.
var errInterrupted = errors.New("interrupted")

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: spikessl [--verbose] COMMAND [flags]")
	fmt.Fprintln(w, "\nRun 'spikessl COMMAND -h' for a command's flags. --verbose logs the backend")
	fmt.Fprintln(w, "choice and device details to stderr.")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].summary)
	}
}

func indexOf(args []string, s string) int {
	for i, a := range args {
		if a == s {
			return i
		}
	}
	return -1
}

// flagSet is a command's flags with its usage text.
type flagSet struct {
	*flag.FlagSet
	usage  string
	stdout io.Writer
}

// newFlagSet returns a flag set for a command. Parse errors are returned,
// not printed, so that each error stays one line; -h prints the usage to
// stdout.
func newFlagSet(env *environment, name, usage string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, usage: fmt.Sprintf("usage: spikessl %s %s", name, usage), stdout: env.stdout}
}

// parseFlags parses args with fs and rejects positional arguments.
func parseFlags(fs *flagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(fs.stdout, fs.usage)
			fs.SetOutput(fs.stdout)
			fs.PrintDefaults()
			return err
		}
		return asUsage(err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
