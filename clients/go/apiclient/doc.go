// Package apiclient is the Go client of the API, generated from
// docs/openapi.json by oapi-codegen (client.gen.go; `make clients`
// regenerates it, CI checks it is current). Another Go service uses it as
//
//	c, err := apiclient.NewClientWithResponses("https://api.example.com",
//		apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
//			r.Header.Set("Authorization", "Bearer "+token)
//			return nil
//		}))
//	me, err := c.GetMeWithResponse(ctx) // me.JSON200, or me.ApplicationproblemJSON401...
//
// For the token endpoint, golang.org/x/oauth2's password grant works too.
package apiclient

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-codegen.yaml ../../../docs/openapi.json
