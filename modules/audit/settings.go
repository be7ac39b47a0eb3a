package audit

import "time"

// Settings are the audit module's variables, declared here and parsed by
// the platform (config.Provide): .env.example, docs/operations.md and
// `app config` list them.
type Settings struct {
	// A day's floor keeps a typo (1h for 1y) from wiping the log at the
	// next prune; ten years bounds the table.
	Retention time.Duration `env:"AUDIT_RETENTION" envDefault:"8760h" min:"24h" max:"87600h" doc:"how long audit-log entries are kept (24h to 87600h; 8760h is 365 days); older ones are pruned hourly"`
}
