package users

import (
	"time"

	"github.com/acme/monolith/platform/config"
)

// Settings are the users module's variables, declared here and parsed by
// the platform (config.Provide).
type Settings struct {
	FirstSuperuserEmail    string `env:"FIRST_SUPERUSER_EMAIL" doc:"an account holding the admin role, created at start if absent"`
	FirstSuperuserPassword string `env:"FIRST_SUPERUSER_PASSWORD" secret:"true" doc:"its password (set together; a Secret if used in production)"`
	SignupEnabled          bool   "env:\"SIGNUP_ENABLED\" envDefault:\"true\" doc:\"open registration at `POST /api/auth/register` (false in prod)\""
	// Registrations per client address per RegisterWindow: each may reveal
	// that an email is taken.
	RegisterLimit  int           `env:"REGISTER_THROTTLE_IP_LIMIT" envDefault:"30" min:"1" max:"1000000" doc:"registrations per client address (IPv6: per /64) per window, successful or not, before 429"`
	RegisterWindow time.Duration `env:"REGISTER_THROTTLE_WINDOW" envDefault:"1h" min:"1s" max:"24h" doc:"the registration window (at most 24h)"`
	// Whether addresses must be proved by a mailed link (usersvc.Verification).
	EmailVerification string "env:\"EMAIL_VERIFICATION\" envDefault:\"off\" oneof:\"off,optional,required\" doc:\"`off`: addresses are taken on trust (registration answers 201 with the account, an email change applies at once). `optional`: registration mails a verification link and answers 202 alike for new and taken addresses; an email change applies when the new address confirms it. `required`: as `optional`, and an unverified account cannot sign in (only its correct password is told so). Needs the auth module, which mails the links\""
}

// Validate checks the rules across variables and production's.
func (s *Settings) Validate(env config.Env) error {
	var p config.Problems
	if (s.FirstSuperuserEmail == "") != (s.FirstSuperuserPassword == "") {
		p.Add("FIRST_SUPERUSER_PASSWORD", "FIRST_SUPERUSER_EMAIL and FIRST_SUPERUSER_PASSWORD must be set together")
	}
	if env.IsProduction() && config.IsPlaceholder(s.FirstSuperuserPassword) {
		p.Add("FIRST_SUPERUSER_PASSWORD", "is a placeholder; choose a real password")
	}
	return p.Err()
}
