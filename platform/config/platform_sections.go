package config

// platformVars explains the variables the platform's loader reads (the
// modules' variables are explained by their own sections' tags). Shown
// describes a default that is derived rather than fixed; such a variable
// is left empty in .env.example.
var platformVars = map[string]struct{ Shown, Doc string }{
	"APP_ENV":                           {Shown: "", Doc: "`production`: JSON logs, no generated key; refuses placeholder secrets, weak hashing, a weak `JWT_KEY_ENCRYPTION_KEY`, a non-https `PUBLIC_URL` and a Postgres URL without TLS (see [Production guards](#production-guards))"},
	"LOG_LEVEL":                         {Shown: "", Doc: "`debug`, `info`, `warn` or `error`"},
	"LOG_FX_EVENTS":                     {Shown: "", Doc: "log the dependency-injection events (debugging the wiring)"},
	"HTTP_ADDR":                         {Shown: "", Doc: "API listen address; `0.0.0.0:8080` in the pods (the container port)"},
	"PUBLIC_URL":                        {Shown: "`http://HTTP_ADDR`", Doc: "externally visible base URL (password-reset links); production requires `https://` unless the host is loopback, so set it in the pods even behind a TLS-terminating ingress"},
	"HTTP_READ_TIMEOUT":                 {Shown: "", Doc: "time to read a request"},
	"HTTP_WRITE_TIMEOUT":                {Shown: "", Doc: "time to write a response"},
	"HTTP_IDLE_TIMEOUT":                 {Shown: "", Doc: "keep-alive idle time"},
	"HTTP_SHUTDOWN_TIMEOUT":             {Shown: "", Doc: "after SIGTERM, time in-flight requests get to finish"},
	"HTTP_SHUTDOWN_DELAY":               {Shown: "", Doc: "after SIGTERM, time to keep serving with readiness failing before draining (for load balancers without a preStop hook)"},
	"HTTP_SHUTDOWN_IDLE_GRACE":          {Shown: "", Doc: "during the drain, a keep-alive connection idle this long since SIGTERM is closed; busy ones close right after their response, which says `Connection: close`. Shorter than `HTTP_SHUTDOWN_TIMEOUT`, within which it runs"},
	"HTTP_BODY_LIMIT":                   {Shown: "", Doc: "largest request body, bytes, of an operation that does not set its own (`httpserver.WithBodyLimit`); an oversized `Content-Length` is a 413 before the body is read"},
	"HTTP_MAX_CONNS":                    {Shown: "", Doc: "open API connections at most; more get 503 `server_busy` (with `Retry-After`) and are closed. Size it so `HTTP_MAX_CONNS × (body limit + ~40 KiB)` fits the memory limit; `0`: no cap"},
	"HTTP_MAX_CONNS_PER_IP":             {Shown: "", Doc: "open connections per client address (per /64 for IPv6); more get 429 `too_many_connections`. Peers in `TRUSTED_PROXIES` are exempt; `0` in the pods, whose only peers are the ingress (which limits per client itself)"},
	"HTTP_DOCS":                         {Shown: "", Doc: "serve `/docs` and the OpenAPI document (false in prod)"},
	"DATABASE_URL":                      {Shown: "", Doc: "`postgres://…` or `sqlite://PATH`; a Secret in the pods. Production requires `sslmode=require`, `verify-ca` or `verify-full` for any host but loopback or a Unix socket"},
	"DATABASE_DIRECT_URL":               {Shown: "`DATABASE_URL`", Doc: "Postgres without the transaction pooler, when `DATABASE_URL` goes through PgBouncer: the session cache's `LISTEN` connection and migrations (a session advisory lock) use it; a Secret in the pods (see [PgBouncer](#pgbouncer))"},
	"DATABASE_ALLOW_INSECURE_TRANSPORT": {Shown: "", Doc: "production only: accept a remote Postgres without TLS because a sidecar or service mesh encrypts the hop (the one documented opt-out)"},
	"DB_MAX_OPEN_CONNS":                 {Shown: "", Doc: "pool size per pod: pods × this must fit Postgres `max_connections`"},
	"DB_MAX_IDLE_CONNS":                 {Shown: "", Doc: "idle connections kept"},
	"DB_CONN_MAX_LIFETIME":              {Shown: "", Doc: "connections are recycled after this"},
	"DB_CONN_MAX_IDLE_TIME":             {Shown: "", Doc: "idle connections closed after this"},
	"DB_QUERY_TIMEOUT":                  {Shown: "", Doc: "deadline of every database call, and Postgres `statement_timeout`, so a frozen database costs a request this long and a 503 (see [Shutdown and outages](#shutdown-and-outages)); shorter than `HTTP_WRITE_TIMEOUT`; `0` turns both off"},
	"MIGRATE_ON_START":                  {Shown: "", Doc: "apply migrations when `serve` starts on Postgres; keep false in production (the Job migrates)"},
	"MIGRATE_DEV_URL":                   {Shown: "", Doc: "scratch server for `app-dev migrate diff` (development only)"},
	"JWT_KEY_ENCRYPTION_KEY":            {Shown: "dev: a built-in public key", Doc: "32 random bytes, base64, sealing the signing keys in the database; required in production, which refuses the built-in key and made-up ones; a Secret"},
	"TRUSTED_PROXIES":                   {Shown: "", Doc: "IPs/CIDRs of reverse proxies (the ingress controller's pods) whose `PROXY_HEADER` gives the client IP; set it in Kubernetes, or every client looks like the ingress. List every proxy hop: the client is the rightmost header entry that is not one of them"},
	"PROXY_HEADER":                      {Shown: "", Doc: "the header those proxies set (appended to, comma-separated, any number of lines)"},
	"CORS_ALLOWED_ORIGINS":              {Shown: "", Doc: "browser origins allowed by CORS, comma-separated"},
	"CORS_ALLOW_CREDENTIALS":            {Shown: "", Doc: "allow credentials cross-origin (not with a wildcard)"},
	"AUTH_STEP_UP_MAX_AGE":              {Shown: "", Doc: "how recent a sign-in the sensitive operations need (changing the password or email, roles and their permissions, creating API keys): with an older one they answer 401 `reauthentication_required` with RFC 9470's `insufficient_user_authentication` challenge and `max_age`, and the client signs in again (refreshing does not renew it); 1m to 24h"},
	"SMTP_HOST":                         {Shown: "", Doc: "mail relay; without it email (password reset, notices of email and password changes) is only logged"},
	"SMTP_PORT":                         {Shown: "", Doc: "relay port"},
	"SMTP_FROM":                         {Shown: "", Doc: "sender address"},
	"SMTP_USERNAME":                     {Shown: "", Doc: "relay login"},
	"SMTP_PASSWORD":                     {Shown: "", Doc: "relay password; a Secret (optional key in the pods)"},
	"SMTP_TLS":                          {Shown: "", Doc: "`starttls`, `tls` (implicit) or `none`"},
	"PASSWORD_HASH_MEMORY_KIB":          {Shown: "", Doc: "argon2id memory per hash (production refuses less)"},
	"PASSWORD_HASH_ITERATIONS":          {Shown: "", Doc: "argon2id passes (production refuses less)"},
	"PASSWORD_HASH_PARALLELISM":         {Shown: "", Doc: "argon2id lanes"},
	"PASSWORD_HASH_CONCURRENCY":         {Shown: "CPUs", Doc: "hashes computed at once; each holds the memory above, so size the memory limit for it"},
	"PASSWORD_HASH_QUEUE":               {Shown: "8 × concurrency", Doc: "requests that may wait for a hashing slot; more get 503 with `Retry-After` at once; `0`: none wait"},
	"PASSWORD_HASH_QUEUE_TIMEOUT":       {Shown: "", Doc: "how long each may wait before the same 503 (at most 30s; `0`: no waiting)"},
	"METRICS_ADDR":                      {Shown: "", Doc: "Prometheus `/metrics` listener, apart from the API; `0.0.0.0:9090` in the pods; `off` disables it"},
	"OTEL_EXPORTER_OTLP_ENDPOINT":       {Shown: "", Doc: "OTLP/HTTP collector base URL; empty: no tracing"},
	"OTEL_SERVICE_NAME":                 {Shown: "", Doc: "`service.name` of the spans"},
	"OTEL_TRACES_SAMPLER_ARG":           {Shown: "", Doc: "fraction of new traces sampled; a caller's sampling decision is followed"},
	"DEBUG_PPROF_ADDR":                  {Shown: "", Doc: "serve `net/http/pprof` on this loopback address (never the API port); for profiling, off by default ([performance.md](performance.md))"},
	"GOMEMLIMIT":                        {Shown: "", Doc: "read by the Go runtime, not the app: set from the memory limit in the pods"},
}

// secretVars are the platform's variables that hold secrets: `app config`
// redacts them, and the pods take them from the Secret.
var secretVars = map[string]bool{
	"DATABASE_URL": true, "DATABASE_DIRECT_URL": true, "JWT_KEY_ENCRYPTION_KEY": true, "SMTP_PASSWORD": true,
	// a development server, but its URL may carry a password
	"MIGRATE_DEV_URL": true,
}

// platformSections names and explains the parts of Config, in order.
var platformSections = []struct {
	section     Section
	name, about string
}{
	{0, "app", "the environment and logging, read by every command"},
	{HTTPSection, "http", "the API server"},
	{DatabaseSection, "database", "the connection pool and the migration policy"},
	{PasswordSection, "password hashing", "argon2id: OWASP minimum 19456 KiB, 2 iterations, parallelism 1; production refuses less"},
	{TelemetrySection, "telemetry", "the /metrics listener and OpenTelemetry tracing"},
	{SessionsSection, "edge", "the key-encryption key and the HTTP edge: proxies and CORS"},
	{MailSection, "mail", "outgoing email; without SMTP_HOST it is logged instead"},
}

// PlatformSections describes the platform's own settings, from the
// variables its loader reads: one list, so the docs cannot name a
// variable the program does not read.
func PlatformSections() []Described {
	bySection := map[Section][]Var{}
	l := &loader{lookup: func(string) (string, bool) { return "", false }, uses: AllSections}
	seen := map[string]bool{}
	l.note = func(name, def string, s Section) {
		if seen[name] {
			return
		}
		seen[name] = true
		doc, ok := platformVars[name]
		if !ok {
			panic("config: " + name + " is read but not explained in platformVars")
		}
		bySection[s] = append(bySection[s], Var{Name: name, Default: def, Shown: doc.Shown, Doc: doc.Doc, Secret: secretVars[name]})
	}
	var c Config
	c.load(l)
	// Read by the Source before any section, from the real environment only.
	bySection[0] = append(bySection[0], Var{Name: EnvFileVar, Doc: "a file of variables to read (real environment variables win), in any environment; " +
		"without it development reads `.env` from the working directory if present and production reads none. Set it in the environment, not in a file"})
	out := make([]Described, 0, len(platformSections))
	for i, ps := range platformSections {
		out = append(out, Described{Name: ps.name, About: ps.about, Vars: bySection[ps.section], platform: true, rank: i})
	}
	return out
}
