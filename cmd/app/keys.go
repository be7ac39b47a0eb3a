package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/auth/authstore"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
)

// keysUses is what rotation reads: the database, the initial signing key
// (it seeds an empty set) and the key-encryption key with the refresh
// interval (sessions).
const keysUses = config.DatabaseSection | config.AuthSection | config.SessionsSection

func keysCmd() *cobra.Command {
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
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			cfg, err := config.LoadSections(keysUses)
			if err != nil {
				return err
			}
			db, err := database.Open(cfg.Database)
			if err != nil {
				return err
			}
			defer func() { _ = db.Close() }()
			// Never migrates Postgres from here; SQLite migrates as `serve` does.
			if err := platform.PrepareSchema(ctx, db, false, zap.NewNop()); err != nil {
				return err
			}
			ring, err := authsvc.NewKeyRing(authstore.New(db), cfg.Sessions.KeyEncryptionKey, cfg.Sessions.KeyRefresh)
			if err != nil {
				return err
			}
			initial, err := authsvc.LoadSigningKey(authsvc.KeySource{
				PEM: cfg.Auth.PrivateKeyPEM, File: cfg.Auth.PrivateKeyFile, Generate: !cfg.IsProduction(),
			})
			if err != nil {
				return err
			}
			if err := ring.Bootstrap(ctx, initial); err != nil {
				return err
			}
			promoted, published, err := ring.Rotate(ctx, cfg.Auth.AccessTokenTTL)
			if err != nil {
				return err
			}
			msg := "no key was waiting: nothing promoted (run again after JWT_KEY_REFRESH_INTERVAL)\n"
			if promoted != "" {
				msg = "signing with " + promoted + "\n"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%spublished next key %s\n", msg, published)
			return err
		},
	})
	return cmd
}
