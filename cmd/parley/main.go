// Command parley is the Parley server: a self-hosted, real-time customer
// support chat in one binary.
//
//	parley serve     start the server (migrating the database first)
//	parley migrate   apply pending database migrations and exit
//	parley version   print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

var errUsage = errors.New("usage: parley serve | migrate | version  (parley COMMAND -h for flags)")

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "parley", version)
		return nil
	case "serve", "migrate":
		cfg, err := loadConfig("parley "+cmd, rest, getenv)
		if err != nil {
			return err
		}
		if cmd == "migrate" {
			return migrate(ctx, cfg, stdout)
		}
		return serve(ctx, cfg, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, errUsage.Error())
		return nil
	default:
		return fmt.Errorf("unknown command %q; %w", cmd, errUsage)
	}
}
