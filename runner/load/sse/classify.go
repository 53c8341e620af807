package sse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// class is what one event's data means.
type class struct {
	token bool // it carries content
	usage int  // usage.completion_tokens, or -1
}

// classify reads one event's data. JSON data (starting with { or [) must be
// valid; an object with "choices" is read the OpenAI way, any other data is one
// token. It walks the bytes once without allocating: no json.Unmarshal per token.
func classify(data []byte) (class, error) {
	d := bytes.TrimSpace(data)
	if len(d) == 0 {
		return class{usage: -1}, nil // an empty data line carries nothing
	}
	if d[0] != '{' && d[0] != '[' {
		return class{token: true, usage: -1}, nil
	}
	if !json.Valid(d) {
		return class{}, ErrMalformed
	}
	if d[0] != '{' {
		return class{token: true, usage: -1}, nil
	}
	var (
		c          = class{usage: -1}
		hasChoices bool
		errMsg     []byte
		hasErr     bool
	)
	eachMember(d, func(key, value []byte) {
		switch string(key) {
		case "choices":
			hasChoices = true
			c.token = choicesCarryContent(value)
		case "usage":
			if value[0] == '{' {
				eachMember(value, func(k, v []byte) {
					if string(k) == "completion_tokens" {
						if n, err := strconv.Atoi(string(v)); err == nil && n >= 0 {
							c.usage = n
						}
					}
				})
			}
		case "error":
			hasErr, errMsg = true, value
		}
	})
	if hasErr && !hasChoices {
		return class{}, fmt.Errorf("%w: %s", ErrServer, serverMessage(errMsg))
	}
	if !hasChoices {
		c.token = c.usage < 0 // a usage-only event is not content
	}
	return c, nil
}

// choicesCarryContent reports whether any choice has a non-empty text or
// delta.content.
func choicesCarryContent(arr []byte) bool {
	found := false
	eachElement(arr, func(choice []byte) {
		if choice[0] != '{' {
			return
		}
		eachMember(choice, func(k, v []byte) {
			switch string(k) {
			case "text":
				found = found || nonEmptyString(v)
			case "delta", "message":
				if v[0] == '{' {
					eachMember(v, func(k, v []byte) {
						if string(k) == "content" {
							found = found || nonEmptyString(v)
						}
					})
				}
			}
		})
	})
	return found
}

func nonEmptyString(v []byte) bool { return len(v) > 2 && v[0] == '"' }

// serverMessage is error.message of an error event, or the error value, cut short.
func serverMessage(v []byte) string {
	msg := v
	if v[0] == '{' {
		eachMember(v, func(k, val []byte) {
			if string(k) == "message" {
				msg = val
			}
		})
	}
	var s string
	if json.Unmarshal(msg, &s) != nil {
		s = string(msg)
	}
	const max = 120
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// The walkers below assume valid JSON (classify checks json.Valid first).

// eachMember calls f with every key (unquoted, escapes kept) and raw value of
// the object obj.
func eachMember(obj []byte, f func(key, value []byte)) {
	i := skipSpace(obj, 1)
	for i < len(obj) && obj[i] != '}' {
		kEnd := skipString(obj, i)
		key := obj[i+1 : kEnd-1]
		i = skipSpace(obj, kEnd)
		i = skipSpace(obj, i+1) // the colon
		vEnd := skipValue(obj, i)
		f(key, obj[i:vEnd])
		i = skipSpace(obj, vEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
}

// eachElement calls f with every raw element of the array arr.
func eachElement(arr []byte, f func(value []byte)) {
	i := skipSpace(arr, 1)
	for i < len(arr) && arr[i] != ']' {
		end := skipValue(arr, i)
		f(arr[i:end])
		i = skipSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipSpace(arr, i+1)
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' &&
			b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}
