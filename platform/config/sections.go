package config

// Section is a part of Config. A command names the sections it uses, and
// only those are validated (production's required secrets included): a
// migration Job then needs DATABASE_URL and nothing else, not the signing
// keys it never touches. APP_ENV, LOG_LEVEL and LOG_FX_EVENTS belong to
// every command.
type Section uint16

// The sections, one per field of Config.
const (
	HTTPSection Section = 1 << iota
	DatabaseSection
	PasswordSection
	TelemetrySection
	SessionsSection // the key-encryption key and the HTTP edge
	MailSection

	AllSections = HTTPSection | DatabaseSection | PasswordSection |
		TelemetrySection | SessionsSection | MailSection
)

// LoadSections reads the process environment for a command that uses only
// the given sections.
func LoadSections(uses Section) (Config, error) {
	src, err := NewSource()
	if err != nil {
		return Config{}, err
	}
	return LoadSectionsFrom(src.Lookup, uses)
}

// zeroUnused clears the sections a command does not use: their values
// were not validated, so a command that reached for one by mistake meets
// an empty value (and fails) rather than an unchecked one.
func (c *Config) zeroUnused(uses Section) {
	drop := func(s Section, f func()) {
		if uses&s == 0 {
			f()
		}
	}
	drop(HTTPSection, func() { c.HTTP = HTTP{} })
	drop(DatabaseSection, func() { c.Database = Database{} })
	drop(PasswordSection, func() { c.Password = Password{} })
	drop(TelemetrySection, func() { c.Telemetry = Telemetry{} })
	drop(SessionsSection, func() { c.Sessions = Sessions{} })
	drop(MailSection, func() { c.Mail = Mail{} })
}
