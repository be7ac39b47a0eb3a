package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/config"
)

// DefaultClient is the public client registered when OAUTH_CLIENTS is
// unset: the id sessions were opened under before clients were registered.
const DefaultClient = "default"

// clients reads OAUTH_CLIENTS and OAUTH_DEFAULT_CLIENT: the first-party
// OAuth2 clients the token and revocation endpoints accept (RFC 6749 §2),
// each `ID` (public: identifies itself, no secret) or `ID=sha256:HEX`
// (confidential: the SHA-256 of its secret, so the configuration never
// holds the secret); the default is the public client a request that names
// none acts as, such as the Swagger UI's Authorize button.
func clients(list []string, def string, p *config.Problems) []authsvc.ClientRegistration {
	var out []authsvc.ClientRegistration
	seen := map[string]bool{}
	for i, e := range list {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		id, secret, confidential := strings.Cut(e, "=")
		if !validClientID(id) {
			// Not echoed: `id:secret` or a bare secret lands here.
			p.Add("OAUTH_CLIENTS", fmt.Sprintf("entry %d: a client id is 1 to 64 of A-Z a-z 0-9 . _ - (then =sha256:HEX for a confidential client)", i+1))
			continue
		}
		if seen[id] {
			p.Add("OAUTH_CLIENTS", fmt.Sprintf("client %q is listed twice", id))
			continue
		}
		seen[id] = true
		c := authsvc.ClientRegistration{ID: id}
		if confidential {
			hexHash, ok := strings.CutPrefix(secret, "sha256:")
			sum, err := hex.DecodeString(hexHash)
			if !ok || err != nil || len(sum) != sha256.Size {
				// The value is a hash, but say nothing of it: it may be a
				// secret pasted in by mistake.
				p.Add("OAUTH_CLIENTS", fmt.Sprintf("client %q: the secret must be given as sha256:<64 hex digits> of the secret", id))
				continue
			}
			c.SecretSHA256 = sum
		}
		out = append(out, c)
	}
	i := slices.IndexFunc(out, func(c authsvc.ClientRegistration) bool { return c.ID == def })
	if i < 0 || out[i].SecretSHA256 != nil {
		p.Add("OAUTH_DEFAULT_CLIENT", fmt.Sprintf("%q must be a public client listed in OAUTH_CLIENTS", def))
	}
	return out
}

// validClientID keeps registered ids to characters that need no escaping
// in a form, a Basic header or a log line.
func validClientID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	return strings.IndexFunc(id, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '.' && r != '_' && r != '-'
	}) < 0
}
