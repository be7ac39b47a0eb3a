package problem

import (
	"regexp"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"
)

// Field codes of huma's validation. huma reports a failing field as a
// location and a message, with no code; the messages come from the format
// strings in huma's validation package, so each is classified by the
// pattern of its constant rather than by guessing at free text.
var (
	FieldRequired           = DeclareField("required", "A required field or parameter is missing.")
	FieldUnexpected         = DeclareField("unexpected_property", "The field is not part of this operation's input.")
	FieldType               = DeclareField("invalid_type", "The value has the wrong JSON type (a string for a number, an object for a string...).")
	FieldTooShort           = DeclareField("too_short", "The value is shorter than its minLength.")
	FieldTooLong            = DeclareField("too_long", "The value is longer than its maxLength.")
	FieldBelowMinimum       = DeclareField("below_minimum", "The number is below its minimum.")
	FieldAboveMaximum       = DeclareField("above_maximum", "The number is above its maximum.")
	FieldNotMultiple        = DeclareField("not_multiple_of", "The number is not a multiple of its multipleOf.")
	FieldEnum               = DeclareField("enum", "The value is not one of the allowed values.")
	FieldPattern            = DeclareField("pattern", "The string does not match its pattern.")
	FieldFormatEmail        = DeclareField("format_email", "The string is not an email address (RFC 5322 addr-spec).")
	FieldFormatDateTime     = DeclareField("format_date_time", "The string is not an RFC 3339 date-time.")
	FieldFormatDate         = DeclareField("format_date", "The string is not an RFC 3339 date.")
	FieldFormatTime         = DeclareField("format_time", "The string is not an RFC 3339 time.")
	FieldFormatUUID         = DeclareField("format_uuid", "The string is not a UUID.")
	FieldFormatURI          = DeclareField("format_uri", "The string is not an RFC 3986 URI.")
	FieldFormatHost         = DeclareField("format_hostname", "The string is not an RFC 5890 hostname.")
	FieldFormatIP           = DeclareField("format_ip", "The string is not an IPv4 or IPv6 address.")
	FieldFormat             = DeclareField("format", "The string does not have its declared format.")
	FieldTooFewItems        = DeclareField("too_few_items", "The array has fewer items than its minItems.")
	FieldTooManyItems       = DeclareField("too_many_items", "The array has more items than its maxItems.")
	FieldDuplicateItems     = DeclareField("duplicate_items", "The array's items must be unique.")
	FieldTooFewProperties   = DeclareField("too_few_properties", "The object has fewer properties than its minProperties.")
	FieldTooManyProperties  = DeclareField("too_many_properties", "The object has more properties than its maxProperties.")
	FieldSchemaMismatch     = DeclareField("schema_mismatch", "The value matches none (or more than one) of the allowed shapes.")
	FieldMultipleValues     = DeclareField("multiple_values", "A parameter that takes one value was given several.")
	FieldInvalid            = DeclareField("invalid_value", "The value is not acceptable for this field.")
	FieldMalformedJSON      = DeclareField("malformed_json", "The body could not be parsed as JSON; the message says where.")
	fieldMessageRequired    = "is required"
	fieldMessageRequiredFor = "is required with "
)

// rule classifies one kind of huma message.
type rule struct {
	re   *regexp.Regexp
	code FieldCode
}

// fromFormat turns one of huma's message format strings into a pattern
// that matches any message made from it.
func fromFormat(format string) *regexp.Regexp {
	q := regexp.QuoteMeta(format)
	for _, verb := range []string{"%v", "%d", "%s"} {
		q = strings.ReplaceAll(q, verb, "(.*)")
	}
	return regexp.MustCompile("^" + q + "$")
}

// The patterns are compiled when the first field error is converted, not
// as the package is initialised: about fifty regular expressions that every
// process would build (and keep) at start, `serve` included, for requests
// that may never come.
var (
	requiredProperty  = sync.OnceValue(func() *regexp.Regexp { return fromFormat(validation.MsgExpectedRequiredProperty) })
	dependentProperty = sync.OnceValue(func() *regexp.Regexp { return fromFormat(validation.MsgExpectedDependentRequiredProperty) })
)

// rules are in order: the first match wins, so the specific formats come
// before MsgExpectedBePattern ("expected string to be %s"), which every
// format message would match.
var rules = sync.OnceValue(func() []rule {
	r := func(format string, code FieldCode) rule { return rule{fromFormat(format), code} }
	return []rule{
		r(validation.MsgUnexpectedProperty, FieldUnexpected),
		r(validation.MsgExpectedRFC5322Email, FieldFormatEmail),
		r(validation.MsgExpectedRFC3339DateTime, FieldFormatDateTime),
		r(validation.MsgExpectedRFC1123DateTime, FieldFormatDateTime),
		r(validation.MsgExpectedRFC3339Date, FieldFormatDate),
		r(validation.MsgExpectedRFC3339Time, FieldFormatTime),
		r(validation.MsgExpectedRFC4122UUID, FieldFormatUUID),
		r(validation.MsgExpectedRFC3986URI, FieldFormatURI),
		r(validation.MsgExpectedRFC6570URITemplate, FieldFormat),
		r(validation.MsgExpectedRFC5890Hostname, FieldFormatHost),
		r(validation.MsgExpectedRFC2673IPv4, FieldFormatIP),
		r(validation.MsgExpectedRFC2373IPv6, FieldFormatIP),
		r(validation.MsgExpectedRFCIPAddr, FieldFormatIP),
		r(validation.MsgExpectedRFC6901JSONPointer, FieldFormat),
		r(validation.MsgExpectedRFC6901RelativeJSONPointer, FieldFormat),
		r(validation.MsgExpectedRegexp, FieldFormat),
		r(validation.MsgExpectedBase64String, FieldFormat),
		r(validation.MsgExpectedDuration, FieldFormat),
		r(validation.MsgExpectedMatchPattern, FieldPattern),
		r(validation.MsgExpectedBePattern, FieldPattern),
		r(validation.MsgExpectedMatchAtLeastOneSchema, FieldSchemaMismatch),
		r(validation.MsgExpectedMatchExactlyOneSchema, FieldSchemaMismatch),
		r(validation.MsgExpectedNotMatchSchema, FieldSchemaMismatch),
		r(validation.MsgExpectedPropertyNameInObject, FieldSchemaMismatch),
		r(validation.MsgExpectedBoolean, FieldType),
		r(validation.MsgExpectedNumber, FieldType),
		r(validation.MsgExpectedInteger, FieldType),
		r(validation.MsgExpectedString, FieldType),
		r(validation.MsgExpectedArray, FieldType),
		r(validation.MsgExpectedObject, FieldType),
		r(validation.MsgExpectedArrayItemsUnique, FieldDuplicateItems),
		r(validation.MsgExpectedOneOf, FieldEnum),
		r(validation.MsgExpectedMinimumNumber, FieldBelowMinimum),
		r(validation.MsgExpectedExclusiveMinimumNumber, FieldBelowMinimum),
		r(validation.MsgExpectedMaximumNumber, FieldAboveMaximum),
		r(validation.MsgExpectedExclusiveMaximumNumber, FieldAboveMaximum),
		r(validation.MsgExpectedNumberBeMultipleOf, FieldNotMultiple),
		r(validation.MsgExpectedMinLength, FieldTooShort),
		r(validation.MsgExpectedMaxLength, FieldTooLong),
		r(validation.MsgExpectedMinItems, FieldTooFewItems),
		r(validation.MsgExpectedMaxItems, FieldTooManyItems),
		r(validation.MsgExpectedMinProperties, FieldTooFewProperties),
		r(validation.MsgExpectedMaxProperties, FieldTooManyProperties),
		// Parameter parsing (huma.go), which has no message constants.
		{regexp.MustCompile(`^required (path|query|header|cookie) parameter is missing$`), FieldRequired},
		{regexp.MustCompile(`^invalid (integer|float|floating value|boolean)$`), FieldType},
		{regexp.MustCompile(`^invalid value: invalid UUID`), FieldFormatUUID},
		{regexp.MustCompile(`^invalid date/time for format`), FieldFormatDateTime},
		{regexp.MustCompile(`^expected at most one value, but received multiple values$`), FieldMultipleValues},
		{regexp.MustCompile(`^unknown query parameter$`), FieldUnexpected},
	}
})

// classify names the rule a huma message reports; a message no rule knows
// still gets a code (invalid_value), so no field error goes without one.
func classify(msg string) FieldCode {
	for _, r := range rules() {
		if r.re.MatchString(msg) {
			return r.code
		}
	}
	return FieldInvalid
}

// detail converts one of huma's error details. A missing field is reported
// by huma on its parent object; it is moved into the location so that
// every failing field is named the same way. The submitted value is
// dropped: it may be a password.
func detail(ed *huma.ErrorDetail) FieldError {
	fe := FieldError{Location: ed.Location, Message: ed.Message}
	switch m := requiredProperty().FindStringSubmatch(ed.Message); {
	case m != nil:
		fe.Location = join(fe.Location, m[1])
		fe.Message = fieldMessageRequired
		fe.Code = FieldRequired.Name
	default:
		if m := dependentProperty().FindStringSubmatch(ed.Message); m != nil {
			fe.Location = join(fe.Location, m[1])
			fe.Message = fieldMessageRequiredFor + m[2]
			fe.Code = FieldRequired.Name
		} else {
			fe.Code = classify(ed.Message).Name
		}
	}
	return fe
}

func join(loc, name string) string {
	if loc == "" {
		return name
	}
	return loc + "." + name
}
