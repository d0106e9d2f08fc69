// Command constancia verifies PagoEfectivo payment vouchers.
//
// Usage:
//
//	constancia scan [--jsonl] PATH...          read vouchers, print fields
//	constancia eval --labels FILE DIR          accuracy and latency against labels
//	constancia synth --out DIR [-n N]          generate labelled vouchers
//	constancia fsck [--data DIR] [--repair]    index and object store agree
//	constancia backup [--data DIR] FILE        hot copy of the index
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
	"strings"
	"syscall"
)

func main() {
	// libgomp reads OMP_THREAD_LIMIT when Tesseract is loaded, before main
	// runs; its default threading makes each voucher several times slower
	// on small machines, so start again with it set.
	if os.Getenv("OMP_THREAD_LIMIT") == "" {
		if exe, err := os.Executable(); err == nil {
			env := append(os.Environ(), "OMP_THREAD_LIMIT=1")
			err = syscall.Exec(exe, os.Args, env)
			fmt.Fprintln(os.Stderr, "constancia: could not re-execute with OMP_THREAD_LIMIT=1:", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(os.Stdout, os.Stderr)
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "constancia:", err)
		}
		os.Exit(exitCode(err))
	}
}

// Main wires the program: it holds the output streams and the logger that
// every subcommand is given. It has no global state, so tests run it.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Logger         *slog.Logger

	listening func(addr string) // called once serve listens (tests)
}

// NewMain returns a Main writing to stdout and stderr, logging per
// CONSTANCIA_LOG_LEVEL (debug, info, warn, error) and CONSTANCIA_LOG_FORMAT
// (text or json).
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{Stdout: stdout, Stderr: stderr, Logger: newLogger(stderr)}
}

func newLogger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(os.Getenv("CONSTANCIA_LOG_LEVEL"))); err != nil {
		lvl = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if strings.EqualFold(os.Getenv("CONSTANCIA_LOG_FORMAT"), "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `constancia verifies PagoEfectivo payment vouchers.

Commands:
  serve [--addr A] [--data DIR] [--workers N] [--queue N]        the HTTP service (API, buyer upload page)
  merchants add --id ID --name NAME | merchants list              manage merchants (service stopped)
  keys add --merchant ID | keys revoke KEY                        manage API keys (service stopped)
  agents add|disable|reset --user U [--role agent|admin]         support agents of the console (service stopped)
  scan [--jsonl] [--workers N] PATH...   read vouchers (files or directories) and print their fields
  eval --labels FILE DIR                 per-field accuracy and latency against a labels.jsonl
  synth --out DIR [-n N] [--seed S]      generate labelled synthetic vouchers
  fsck [--data DIR] [--repair]           check that index and object store agree, both ways
  backup [--data DIR] FILE               write a consistent copy of the index
  orders import [--merchant M] [--map field=Column,...] FILE   register open orders (CSV or JSON)
  settlements import [--merchant M] FILE settle orders from PagoEfectivo's file; lists discrepancies
  report --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE]        reconciliation report (CSV)

Run 'constancia COMMAND -h' for a command's flags.`

// Run runs the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(m.Stderr, usage)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "scan":
		return m.runScan(ctx, args[1:])
	case "eval":
		return m.runEval(ctx, args[1:])
	case "synth":
		return m.runSynth(ctx, args[1:])
	case "fsck":
		return m.runFsck(ctx, args[1:])
	case "backup":
		return m.runBackup(ctx, args[1:])
	case "serve":
		return m.runServe(ctx, args[1:])
	case "merchants":
		return m.runMerchants(ctx, args[1:])
	case "keys":
		return m.runKeys(ctx, args[1:])
	case "agents":
		return m.runAgents(ctx, args[1:])
	case "orders":
		return m.runOrders(ctx, args[1:])
	case "settlements":
		return m.runSettlements(ctx, args[1:])
	case "report":
		return m.runReport(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprintln(m.Stdout, usage)
		return nil
	default:
		fmt.Fprintln(m.Stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
}

func (m *Main) stdin() io.Reader {
	if m.Stdin != nil {
		return m.Stdin
	}
	return os.Stdin
}
