package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/cli"
)

// keysCommand is `app keys`: rotate and remove, on the key ring the
// module provides to `serve` (bootstrapped from the configured key when
// the set is empty, as at start).
func keysCommand(run cli.Run) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the access-token signing keys"}
	cmd.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: "Advance key rotation: the published next key starts signing, a new next key is published",
		Long: "Each run promotes the key published by the previous run to signing key, retires the\n" +
			"current one (it keeps verifying until its tokens have expired) and publishes a new next\n" +
			"key in /.well-known/jwks.json. Replicas pick the change up within JWT_KEY_REFRESH_INTERVAL,\n" +
			"so run it no more often than that. The first run only publishes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, func(ctx context.Context, cfg Settings, ring *authsvc.KeyRing) error {
				promoted, published, err := ring.Rotate(ctx, cfg.AccessTokenTTL)
				if err != nil {
					return err
				}
				msg := "no key was waiting: nothing promoted (run again after JWT_KEY_REFRESH_INTERVAL)\n"
				if promoted != "" {
					msg = "signing with " + promoted + "\n"
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%spublished next key %s\n", msg, published)
				return err
			})
		},
	})
	cmd.AddCommand(keysRemoveCommand(run))
	return cmd
}

func keysRemoveCommand(run cli.Run) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remove KID",
		Short: "Withdraw a signing key now (a leaked key): its tokens stop verifying on every replica",
		Long: "Deletes the key from the key set. On Postgres every running replica is told at once\n" +
			"(NOTIFY auth_sessions) and refuses the key's tokens from then on; a replica whose listener\n" +
			"is down picks the removal up when it reconnects, and within JWT_KEY_REFRESH_INTERVAL at\n" +
			"worst. Clients holding the key's access tokens get 401 and renew them with their refresh\n" +
			"token. On SQLite (development) a running server notices at its next reload.\n\n" +
			"The only current (signing) key is removed only with --force: the published next key then\n" +
			"signs at once, or a new key is generated when none is published.",
		Example: "  app keys remove 7dYk0...   # the kid, as in /.well-known/jwks.json or a token's header",
		// A kid is base64url and one in 32 begins with '-': flag parsing
		// would read it as shorthand flags, so the arguments are read here.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			kid, force, help, err := removeArgs(args)
			if help {
				return cmd.Help()
			}
			if err != nil {
				return fmt.Errorf("%w\nusage: %s", err, cmd.UseLine())
			}
			return run(cmd, func(ctx context.Context, ring *authsvc.KeyRing) error {
				promoted, err := ring.Remove(ctx, kid, force)
				switch {
				case errors.Is(err, authsvc.ErrKeyNotFound):
					return fmt.Errorf("no signing key %q in the key set (see /.well-known/jwks.json for the kids)", kid)
				case errors.Is(err, authsvc.ErrOnlyCurrentKey):
					return fmt.Errorf("%s is the only current signing key: removing it leaves nothing to sign with. "+
						"Pass --force to remove it anyway and sign at once with the published next key "+
						"(or a new key if none is published); sessions continue, clients renew their access tokens", kid)
				case err != nil:
					return err
				}
				out := "removed " + kid + "\n"
				if promoted != "" {
					out += "signing with " + promoted + "\n"
				}
				_, err = fmt.Fprint(cmd.OutOrStdout(), out)
				return err
			})
		},
	}
	cmd.Flags().Bool("force", false, "also remove the only current key (the next key, or a new one, signs at once)")
	return cmd
}

// removeArgs reads `keys remove` arguments: one kid, which may begin with
// '-', and --force anywhere (--force=false too); after "--" everything is a kid.
func removeArgs(args []string) (kid string, force, help bool, err error) {
	var kids []string
	for i, a := range args {
		switch {
		case a == "--":
			kids = append(kids, args[i+1:]...)
			return oneKid(kids, force)
		case a == "-h" || a == "--help":
			return "", false, true, nil
		case a == "--force":
			force = true
		case strings.HasPrefix(a, "--force="):
			force, err = strconv.ParseBool(strings.TrimPrefix(a, "--force="))
			if err != nil {
				return "", false, false, fmt.Errorf("--force takes true or false, not %q", strings.TrimPrefix(a, "--force="))
			}
		case strings.HasPrefix(a, "--"):
			return "", false, false, fmt.Errorf("unknown flag %s", a)
		default:
			kids = append(kids, a)
		}
	}
	return oneKid(kids, force)
}

func oneKid(kids []string, force bool) (string, bool, bool, error) {
	if len(kids) != 1 {
		return "", false, false, fmt.Errorf("keys remove takes one kid, got %d", len(kids))
	}
	return kids[0], force, false, nil
}
