package problem

import (
	"fmt"
	"testing"

	"github.com/danielgtaylor/huma/v2/validation"
)

// TestEveryHumaMessageHasItsCode formats each of huma's validation message
// constants as huma does and checks the code it gets, so that a huma
// upgrade that rewords a message fails here rather than sending
// invalid_value to clients.
func TestEveryHumaMessageHasItsCode(t *testing.T) {
	cases := []struct {
		msg  string
		want FieldCode
	}{
		{validation.MsgUnexpectedProperty, FieldUnexpected},
		{validation.MsgExpectedRFC3339DateTime, FieldFormatDateTime},
		{validation.MsgExpectedRFC1123DateTime, FieldFormatDateTime},
		{validation.MsgExpectedRFC3339Date, FieldFormatDate},
		{validation.MsgExpectedRFC3339Time, FieldFormatTime},
		{fmt.Sprintf(validation.MsgExpectedRFC5322Email, "mail: no angle-addr"), FieldFormatEmail},
		{validation.MsgExpectedRFC5890Hostname, FieldFormatHost},
		{validation.MsgExpectedRFC2673IPv4, FieldFormatIP},
		{validation.MsgExpectedRFC2373IPv6, FieldFormatIP},
		{validation.MsgExpectedRFCIPAddr, FieldFormatIP},
		{fmt.Sprintf(validation.MsgExpectedRFC3986URI, "missing scheme"), FieldFormatURI},
		{fmt.Sprintf(validation.MsgExpectedRFC4122UUID, "invalid UUID length: 3"), FieldFormatUUID},
		{validation.MsgExpectedRFC6570URITemplate, FieldFormat},
		{validation.MsgExpectedRFC6901JSONPointer, FieldFormat},
		{validation.MsgExpectedRFC6901RelativeJSONPointer, FieldFormat},
		{fmt.Sprintf(validation.MsgExpectedRegexp, "missing )"), FieldFormat},
		{validation.MsgExpectedMatchAtLeastOneSchema, FieldSchemaMismatch},
		{validation.MsgExpectedMatchExactlyOneSchema, FieldSchemaMismatch},
		{validation.MsgExpectedNotMatchSchema, FieldSchemaMismatch},
		{validation.MsgExpectedPropertyNameInObject, FieldSchemaMismatch},
		{validation.MsgExpectedBoolean, FieldType},
		{fmt.Sprintf(validation.MsgExpectedDuration, "bad"), FieldFormat},
		{validation.MsgExpectedNumber, FieldType},
		{validation.MsgExpectedInteger, FieldType},
		{validation.MsgExpectedString, FieldType},
		{validation.MsgExpectedBase64String, FieldFormat},
		{validation.MsgExpectedArray, FieldType},
		{validation.MsgExpectedObject, FieldType},
		{validation.MsgExpectedArrayItemsUnique, FieldDuplicateItems},
		{fmt.Sprintf(validation.MsgExpectedOneOf, "a, b"), FieldEnum},
		{fmt.Sprintf(validation.MsgExpectedMinimumNumber, 1), FieldBelowMinimum},
		{fmt.Sprintf(validation.MsgExpectedExclusiveMinimumNumber, 1), FieldBelowMinimum},
		{fmt.Sprintf(validation.MsgExpectedMaximumNumber, 9), FieldAboveMaximum},
		{fmt.Sprintf(validation.MsgExpectedExclusiveMaximumNumber, 9), FieldAboveMaximum},
		{fmt.Sprintf(validation.MsgExpectedNumberBeMultipleOf, 2), FieldNotMultiple},
		{fmt.Sprintf(validation.MsgExpectedMinLength, 8), FieldTooShort},
		{fmt.Sprintf(validation.MsgExpectedMaxLength, 128), FieldTooLong},
		{fmt.Sprintf(validation.MsgExpectedBePattern, "a slug"), FieldPattern},
		{fmt.Sprintf(validation.MsgExpectedMatchPattern, "^[a-z]+$"), FieldPattern},
		{fmt.Sprintf(validation.MsgExpectedMinItems, 1), FieldTooFewItems},
		{fmt.Sprintf(validation.MsgExpectedMaxItems, 1), FieldTooManyItems},
		{fmt.Sprintf(validation.MsgExpectedMinProperties, 1), FieldTooFewProperties},
		{fmt.Sprintf(validation.MsgExpectedMaxProperties, 1), FieldTooManyProperties},
		{"required query parameter is missing", FieldRequired},
		{"invalid integer", FieldType},
		{"invalid value: invalid UUID length: 2", FieldFormatUUID},
		{"expected at most one value, but received multiple values", FieldMultipleValues},
		{"something huma has never said", FieldInvalid},
	}
	for _, c := range cases {
		if got := classify(c.msg); got != c.want {
			t.Errorf("%q -> %s, want %s", c.msg, got.Name, c.want.Name)
		}
	}
}
