// Command parley runs the Parley helpdesk: with no arguments (or "serve") it
// serves the web desk; "migrate" applies database migrations; "user" creates
// accounts and resets passwords from the command line.
package main

import (
	"bufio"
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

	"golang.org/x/term"

	"github.com/parleydesk/parley/app"
	"github.com/parleydesk/parley/models"
)

const usage = `Parley: helpdesk with live chat.

Usage:
  parley [serve]                          run the web desk (see README for PARLEY_* variables)
  parley migrate                          apply database migrations and exit
  parley user create --email E --name N [--admin] [--no-support]
                                          create a user; the password is read from stdin
  parley user set-password --email E      set a user's password, read from stdin
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals()...)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

// stopSignals are the signals that shut Parley down cleanly (stopping its
// private PostgreSQL): Ctrl-C, SIGTERM (make, systemd, kill) and SIGHUP, which
// a closing terminal sends to `make run`. A SIGHUP that the parent ignores
// (nohup) stays ignored: asking for it would undo that.
func stopSignals() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	cfg, err := app.LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	log := cfg.NewLogger(os.Stderr)
	slog.SetDefault(log)

	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		a, err := app.New(ctx, cfg, app.Options{Logger: log})
		if err != nil {
			return err
		}
		return a.Run(ctx)
	case "migrate":
		a, err := app.New(ctx, cfg, app.Options{Logger: log})
		if err != nil {
			return err
		}
		log.Info("migrations applied")
		return a.Close()
	case "user":
		return userCommand(ctx, cfg, log, args, stdin, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
	}
}

func userCommand(ctx context.Context, cfg app.Config, log *slog.Logger, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("user: want 'create' or 'set-password'\n\n" + usage)
	}
	sub := args[0]
	fs := flag.NewFlagSet("parley user "+sub, flag.ContinueOnError)
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "display name (create)")
	admin := fs.Bool("admin", false, "make the user an admin (create)")
	noSupport := fs.Bool("no-support", false, "do not give the customer-support flag (create)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("user " + sub + ": --email is required")
	}
	if sub != "create" && sub != "set-password" {
		return fmt.Errorf("user: unknown subcommand %q", sub)
	}
	password, err := readPassword(stdin, stdout)
	if err != nil {
		return err
	}

	a, err := app.New(ctx, cfg, app.Options{Logger: log})
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "create":
		role := models.RoleAgent
		if *admin {
			role = models.RoleAdmin
		}
		u, err := models.CreateUser(ctx, a.DB(), models.UserInput{
			Name: *name, Email: *email, Password: password, Role: role, CustomerSupport: !*noSupport,
		})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created %s %s <%s> (id %d)\n", u.Role, u.Name, u.Email, u.ID)
	case "set-password":
		u, err := models.FindUserByEmail(ctx, a.DB(), *email)
		if err != nil {
			return fmt.Errorf("no user with email %s", *email)
		}
		err = a.Write(ctx, func(tx models.Tx) error { return models.SetPassword(ctx, tx, u.ID, password) })
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "password set for %s; their sessions have ended\n", u.Email)
	}
	return nil
}

// readPassword reads the password without echo from a terminal, or as the
// first line of stdin in scripts.
func readPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		return string(b), err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// describe turns a validation error into a readable message for the shell.
func describe(err error) error {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	msgs := map[string]string{
		"email_taken": "someone already uses this email", "email_invalid": "not a valid email address",
		"email_required": "--email is required", "name_required": "--name is required",
		"password_too_short": fmt.Sprintf("the password needs at least %d characters", models.MinPasswordLen),
		"password_required":  "the password is empty (pipe it on stdin)",
	}
	var parts []string
	for _, fe := range ve.Errors {
		m := msgs[fe.Code]
		if m == "" {
			m = fe.Field + ": " + fe.Code
		}
		parts = append(parts, m)
	}
	return errors.New(strings.Join(parts, "; "))
}
