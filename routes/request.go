package routes

import (
	"bytes"
	jsonv2 "encoding/json/v2"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"ticketportal/policy"
)

// maxBody is the largest JSON body a custom route reads.
const maxBody = 64 << 10

// readJSON decodes the request body, a JSON object, into dst strictly:
// unknown or duplicate fields, a body that is not an object, a wrong
// content type or a body over maxBody are refused with a 4xx naming the
// problem. An empty body decodes as {}.
func readJSON(e *core.RequestEvent, dst any) error {
	if ct := e.Request.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return router.NewApiError(http.StatusUnsupportedMediaType, "The request body must be JSON (Content-Type: application/json).", nil)
		}
	}
	raw, err := io.ReadAll(io.LimitReader(e.Request.Body, maxBody+1))
	if err != nil {
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
	err = jsonv2.Unmarshal(raw, dst, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var serr *jsonv2.SemanticError
	if errors.As(err, &serr) {
		name := strings.TrimPrefix(string(serr.JSONPointer), "/")
		if name != "" && !strings.Contains(name, "/") {
			// json/v2 reports an unknown member with the struct as GoType
			if errors.Is(err, jsonv2.ErrUnknownName) || serr.GoType == nil {
				return e.BadRequestError("Unknown field "+name+".", validation.Errors{
					name: validation.NewError("validation_unknown_field", "Unknown field."),
				})
			}
			return e.BadRequestError("Field "+name+" has the wrong type.", validation.Errors{
				name: validation.NewError("validation_invalid_type", "Must be a "+kindName(serr.GoType.Kind().String())+"."),
			})
		}
	}
	if strings.Contains(err.Error(), "duplicate") {
		return e.BadRequestError("The request body repeats a field.", nil)
	}
	return e.BadRequestError("The request body is not valid JSON.", nil)
}

func kindName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "float64":
		return "number"
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
