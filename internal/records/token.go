package records

import (
	"encoding/base64"
	"slices"
	"strings"

	"github.com/wsim/wsim/internal/api"
)

// Page tokens: one opaque format for every list, base64url of
// "t1:<list>:<after>", where list names what is being walked (a store kind,
// or a phase of a listing that walks several) and after is the last id of
// the page. Tokens of earlier versions, "v1:<after>", continue the first list.

// EncodeToken is the token of a page of list that ended at after.
func EncodeToken(list, after string) *string {
	return api.String(base64.RawURLEncoding.EncodeToString([]byte("t1:" + list + ":" + after)))
}

// DecodeToken reads a token of one of lists. No token starts the first
// list at its beginning. A token of another list, or not a token at all, is
// a ValidationException.
func DecodeToken(tok *string, lists ...string) (list, after string, err error) {
	if tok == nil {
		return lists[0], "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	if err == nil {
		s := string(raw)
		if rest, ok := strings.CutPrefix(s, "t1:"); ok {
			if list, after, ok := strings.Cut(rest, ":"); ok && slices.Contains(lists, list) {
				return list, after, nil
			}
		}
		if after, ok := strings.CutPrefix(s, "v1:"); ok {
			return lists[0], after, nil
		}
	}
	return "", "", InvalidToken()
}

// InvalidToken is the answer to a NextToken wsim did not make.
func InvalidToken() error {
	return &api.Error{Code: "ValidationException", Status: 400, Message: "The NextToken is not valid: pass the NextToken of the previous response unchanged."}
}
