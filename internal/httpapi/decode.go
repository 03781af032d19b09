package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parleychat/parley"
)

// MaxBodyBytes bounds every JSON request body.
const MaxBodyBytes = 1 << 20

// decode reads the request body as exactly one JSON value into v, strictly:
// JSON content type, no unknown fields, no trailing data, at most
// MaxBodyBytes. An empty body is allowed only when optional.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	if r.ContentLength == 0 && optional && r.Header.Get("Content-Type") == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &parley.Error{Code: parley.EINVALID, Message: "The body must be JSON (Content-Type: application/json)."}
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			if optional {
				return nil
			}
			return parley.Errorf(parley.EINVALID, "The body is empty.")
		}
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		return parley.Errorf(parley.EINVALID, "The body must hold a single JSON value.")
	}
	return nil
}

func tooLarge() error {
	return parley.Errorf(parley.ETOOLARGE, "The body is larger than %d bytes.", MaxBodyBytes)
}

func decodeError(err error) error {
	var (
		mbe *http.MaxBytesError
		ute *json.UnmarshalTypeError
		se  *json.SyntaxError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge()
	case errors.As(err, &ute):
		if ute.Field == "" {
			return parley.Errorf(parley.EINVALID, "The body must be a JSON object.")
		}
		return parley.Errorf(parley.EINVALID, "%s must be %s.", ute.Field, jsonKind(ute.Type.Kind().String()))
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return parley.Errorf(parley.EINVALID, "The body is not valid JSON.")
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return parley.Errorf(parley.EINVALID, "Unknown field %s.", f)
	}
	return parley.Errorf(parley.EINVALID, "The body is not valid JSON.")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return "of another type"
}

// query checks that r's query has only the allowed parameters, each once.
func query(r *http.Request, allowed ...string) (url.Values, error) {
	q := r.URL.Query()
	for k, vs := range q {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			return nil, parley.Errorf(parley.EINVALID, "Unknown query parameter %q.", k)
		}
		if len(vs) > 1 && k != "status" {
			return nil, parley.Errorf(parley.EINVALID, "Query parameter %q is repeated.", k)
		}
	}
	return q, nil
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(q url.Values, name string, lo, hi int64) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, parley.Errorf(parley.EINVALID, "%s must be a whole number between %d and %d.", name, lo, hi)
	}
	return n, nil
}

// statuses parses status filters ("waiting,active" or repeated) against the
// allowlist.
func statuses(q url.Values) ([]parley.Status, error) {
	var out []parley.Status
	for _, v := range q["status"] {
		for _, s := range strings.Split(v, ",") {
			st := parley.Status(strings.TrimSpace(s))
			if !st.Valid() {
				return nil, parley.Errorf(parley.EINVALID, "status must be waiting, active or closed.")
			}
			out = append(out, st)
		}
	}
	if len(out) > 3 {
		return nil, parley.Errorf(parley.EINVALID, "status must be waiting, active or closed.")
	}
	return out, nil
}

func requireField(name, v string) error {
	if v == "" {
		return parley.Errorf(parley.EINVALID, "%s is required.", name)
	}
	return nil
}
