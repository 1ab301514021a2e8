package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// What the operator commands print. Tables are for people: aligned columns
// in a fixed order, times in RFC 3339 UTC, "-" for nothing, and a sentence
// when there are no rows. JSON is for scripts: the control API's own JSON,
// unchanged, or an array of the items of its pages.

// table writes rows under a header, aligned; with no rows it writes empty
// instead.
func table(w io.Writer, header []string, rows [][]string, empty string) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, empty)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// fields writes key: value lines, the values aligned.
func fields(w io.Writer, kv [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range kv {
		fmt.Fprintf(tw, "%s:\t%s\n", f[0], f[1])
	}
	return tw.Flush()
}

// printJSON writes v (a json.RawMessage, a slice of them, or any value)
// indented, with a final newline.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// cell is s, or "-" when it is empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// timeCell is t in RFC 3339 UTC, or "-" for the zero time.
func timeCell(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// durationCell is a number of seconds as a Go duration ("35m0s").
func durationCell(seconds float64) string {
	return (time.Duration(seconds * float64(time.Second))).Round(time.Millisecond).String()
}

// tagsCell is tags as key=value, by key, comma-separated.
func tagsCell(tags map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, k+"="+tags[k])
	}
	return cell(strings.Join(parts, ","))
}

// truncate shortens s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// listAll reads the pages of a listing of the control API (/_wsim/pipelines
// or /_wsim/resources, whose pages hold their items under key, a "now" and
// a "nextToken") and returns the items as the API gave them, with the
// service time of the first page: every page, or the first limit items when
// limit > 0.
func (c *controlClient) listAll(ctx context.Context, path string, q url.Values, key string, limit int) ([]json.RawMessage, time.Time, error) {
	const maxPage = 1000         // the control API's largest page
	items := []json.RawMessage{} // [] in JSON when nothing matches
	var now time.Time
	q = maps.Clone(q)
	if q == nil {
		q = url.Values{}
	}
	for {
		size := maxPage
		if limit > 0 {
			size = min(limit-len(items), maxPage)
		}
		q.Set("limit", strconv.Itoa(size))
		var page map[string]json.RawMessage
		if err := c.get(ctx, path+"?"+q.Encode(), &page); err != nil {
			return nil, time.Time{}, err
		}
		var (
			got  []json.RawMessage
			next string
			at   time.Time
		)
		if err := json.Unmarshal(page[key], &got); err != nil {
			return nil, time.Time{}, fmt.Errorf("wsim's answer to GET %s has no %q list: %w", path, key, err)
		}
		if raw, ok := page["nextToken"]; ok {
			json.Unmarshal(raw, &next)
		}
		if raw, ok := page["now"]; ok && now.IsZero() {
			json.Unmarshal(raw, &at)
			now = at
		}
		items = append(items, got...)
		if next == "" || limit > 0 && len(items) >= limit || len(got) == 0 {
			return items, now, nil
		}
		q.Set("nextToken", next)
	}
}

// decodeAll decodes raw items into values of T.
func decodeAll[T any](raw []json.RawMessage) ([]T, error) {
	out := make([]T, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("an item of wsim's answer is not what this wsim CLI understands: %w", err)
		}
	}
	return out, nil
}
