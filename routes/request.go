package routes

import (
	"bytes"
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"ticketportal/policy"
)

// maxBody is the largest JSON body a custom route reads.
const maxBody = 64 << 10

// maxNameInMessage is the longest field name echoed back in an error.
const maxNameInMessage = 64

// readJSON decodes the request body, a JSON object, into dst strictly:
// unknown or duplicate fields, a body that is not one JSON object (an
// array, a string, null, trailing data), wrong types, invalid UTF-8 or
// unpaired surrogates, NUL characters (raw or escaped), a content type
// other than JSON in UTF-8 and a body over maxBody are refused with a 4xx
// naming the problem. An empty body decodes as {}.
func readJSON(e *core.RequestEvent, dst any) error {
	if ct := e.Request.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		charset := strings.ToLower(params["charset"])
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) || (charset != "" && charset != "utf-8" && charset != "utf8") {
			return router.NewApiError(http.StatusUnsupportedMediaType, "The request body must be JSON (Content-Type: application/json).", nil)
		}
	}
	raw, err := io.ReadAll(io.LimitReader(e.Request.Body, maxBody+1))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return router.NewApiError(http.StatusRequestEntityTooLarge, "The request body is larger than 64 KiB.", nil)
		}
		return e.BadRequestError("The request body could not be read.", nil)
	}
	if len(raw) > maxBody {
		return router.NewApiError(http.StatusRequestEntityTooLarge, "The request body is larger than 64 KiB.", nil)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	if raw[0] != '{' {
		return e.BadRequestError("The request body must be a JSON object.", nil)
	}
	if bytes.IndexByte(raw, 0) >= 0 {
		return e.BadRequestError("The request body must not contain NUL bytes.", nil)
	}
	if name, found := nulMember(raw); found {
		if !echoable(name) {
			return e.BadRequestError("The request body must not contain NUL characters.", nil)
		}
		return e.BadRequestError("Field "+name+" contains a NUL character.", validation.Errors{
			name: validation.NewError("validation_invalid_characters", "Must not contain NUL characters."),
		})
	}
	err = jsonv2.Unmarshal(raw, dst, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var serr *jsonv2.SemanticError
	if errors.As(err, &serr) {
		name := topMember(serr.JSONPointer)
		if name != "" && "/"+name == string(serr.JSONPointer) {
			unknown := errors.Is(err, jsonv2.ErrUnknownName) || serr.GoType == nil
			if !echoable(name) {
				if unknown {
					return e.BadRequestError("The request body has an unknown field.", nil)
				}
				return e.BadRequestError("The request body has a field of the wrong type.", nil)
			}
			// json/v2 reports an unknown member with the struct as GoType
			if unknown {
				return e.BadRequestError("Unknown field "+name+".", validation.Errors{
					name: validation.NewError("validation_unknown_field", "Unknown field."),
				})
			}
			return e.BadRequestError("Field "+name+" has the wrong type.", validation.Errors{
				name: validation.NewError("validation_invalid_type", "Must be a "+kindName(serr.GoType)+"."),
			})
		}
	}
	if strings.Contains(err.Error(), "duplicate") {
		return e.BadRequestError("The request body repeats a field.", nil)
	}
	return e.BadRequestError("The request body is not valid JSON.", nil)
}

// nulMember reports the top-level member of a JSON object whose name or
// value holds a NUL character (written as \u0000), if any. A syntax error
// ends the scan; Unmarshal reports it.
func nulMember(raw []byte) (string, bool) {
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return "", false
	}
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			return "", false
		}
		if tok.Kind() == '"' && strings.IndexByte(tok.String(), 0) >= 0 {
			return topMember(dec.StackPointer()), true
		}
	}
}

// topMember is the first name of a JSON pointer ("/a/b/1" → "a").
func topMember(p jsontext.Pointer) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(string(p), "/"), "/")
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(name)
}

// echoable says whether a field name may be repeated in an error: short,
// printable, no NUL.
func echoable(name string) bool {
	if name == "" || len(name) > maxNameInMessage {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func kindName(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "value of another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "value of another type"
}

// fieldError answers 400 naming one bad field.
func fieldError(e *core.RequestEvent, message, field, code, fieldMessage string) error {
	return e.BadRequestError(message, validation.Errors{field: validation.NewError(code, fieldMessage)})
}

// require is a middleware that lets through only callers whose role may take
// the action: 401 without a valid token, 403 for a role that may not.
func require(action policy.Action) func(e *core.RequestEvent) error {
	return func(e *core.RequestEvent) error {
		if e.Auth == nil {
			return e.UnauthorizedError("Sign in to continue.", nil)
		}
		if !policy.Can(e.Auth, action) {
			return e.ForbiddenError("Your role may not do this.", nil)
		}
		return e.Next()
	}
}

// requireAuth is a middleware that lets through any signed-in account.
func requireAuth(e *core.RequestEvent) error {
	if policy.RoleOf(e.Auth) == "" {
		return e.UnauthorizedError("Sign in to continue.", nil)
	}
	return e.Next()
}
