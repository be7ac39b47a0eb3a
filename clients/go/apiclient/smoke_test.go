package apiclient_test

import (
	"context"
	"net/http"
	"testing"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/acme/monolith/clients/go/apiclient"
	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestGoClientSmoke: the generated Go client against the running app, on
// both databases: register, a 409 and a 422 read as typed problems, the
// password grant, /me, a refresh, /me with the renewed token.
func TestGoClientSmoke(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		ctx := context.Background()
		var access string
		c, err := apiclient.NewClientWithResponses(app.URL, apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			if access != "" {
				r.Header.Set("Authorization", "Bearer "+access)
			}
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		email, password, name := "zoë-smoke@example.com", "a long smoke passphrase", "Zoë Smoke"

		reg, err := c.RegisterWithResponse(ctx, apiclient.UserRegister{Email: openapi_types.Email(email), Password: password, FullName: &name})
		if err != nil {
			t.Fatal(err)
		}
		if reg.JSON201 == nil || string(reg.JSON201.Email) != email {
			t.Fatalf("register: %d %s", reg.StatusCode(), reg.Body)
		}
		again, err := c.RegisterWithResponse(ctx, apiclient.UserRegister{Email: openapi_types.Email(email), Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if again.ApplicationproblemJSON409 == nil || again.ApplicationproblemJSON409.Code != "email_taken" {
			t.Fatalf("409: %d %s", again.StatusCode(), again.Body)
		}
		bad, err := c.RegisterWithResponse(ctx, apiclient.UserRegister{Email: "short@example.com", Password: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if bad.ApplicationproblemJSON422 == nil || bad.ApplicationproblemJSON422.Code != "validation_failed" ||
			bad.ApplicationproblemJSON422.Errors == nil || (*bad.ApplicationproblemJSON422.Errors)[0].Code != "too_short" {
			t.Fatalf("422: %d %s", bad.StatusCode(), bad.Body)
		}

		login, err := c.LoginWithFormdataBodyWithResponse(ctx, apiclient.AuthPasswordGrant{
			GrantType: apiclient.AuthPasswordGrantGrantTypePassword, Username: &email, Password: &password,
		})
		if err != nil || login.JSON200 == nil {
			t.Fatalf("password grant: %d %s", login.StatusCode(), login.Body)
		}
		access = login.JSON200.AccessToken
		me, err := c.GetMeWithResponse(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if me.JSON200 == nil || me.JSON200.FullName != name {
			t.Fatalf("/me: %d %s", me.StatusCode(), me.Body)
		}

		renewed, err := c.LoginWithFormdataBodyWithResponse(ctx, apiclient.AuthPasswordGrant{
			GrantType: apiclient.AuthPasswordGrantGrantTypeRefreshToken, RefreshToken: &login.JSON200.RefreshToken,
		})
		if err != nil || renewed.JSON200 == nil || renewed.JSON200.AccessToken == access {
			t.Fatalf("refresh grant: %d %s", renewed.StatusCode(), renewed.Body)
		}
		access = renewed.JSON200.AccessToken
		if me, err := c.GetMeWithResponse(ctx); err != nil || me.JSON200 == nil || string(me.JSON200.Email) != email {
			t.Fatalf("/me after refresh: %d %s", me.StatusCode(), me.Body)
		}
		// A refresh token the server never issued: the client reads the
		// RFC 6749 §5.2 error as a typed value.
		forged := "not-a-refresh-token"
		reuse, err := c.LoginWithFormdataBodyWithResponse(ctx, apiclient.AuthPasswordGrant{
			GrantType: apiclient.AuthPasswordGrantGrantTypeRefreshToken, RefreshToken: &forged,
		})
		if err != nil || reuse.JSON400 == nil || reuse.JSON400.Error != apiclient.InvalidGrant {
			t.Fatalf("forged refresh token: %d %s", reuse.StatusCode(), reuse.Body)
		}
	})
}
