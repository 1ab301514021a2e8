package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsim/wsim/internal/dashboard"
)

func init() { extraCommands = append(extraCommands, newImagesCommand) }

// The catalogue kinds images list reads (see /_wsim/resources).
const (
	kindImage      = "image"
	kindImageShare = "image-share"
)

func newImagesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "List the images of a running wsim",
		Long:  "images lists the image catalogue of every account and Region of a running wsim (/_wsim/resources).",
		Args:  cobra.NoArgs, // refuses unknown subcommands
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	of := addOperatorFlags(cmd)
	cmd.AddCommand(newImagesListCommand(of))
	return cmd
}

func newImagesListCommand(of *operatorFlags) *cobra.Command {
	var (
		account, region string
		shared          bool
		limit           int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the images, newest first",
		Long: `list lists every image of every account and Region, newest first, however it was made
(custom import, older import, copy, update), with its state at the service time, its
owner, how it was made, the accounts it is shared with and its tags.

With --shared it also lists, for each account an image is shared with, the image as
that account sees it (origin "shared"; its time is when it was shared), so that
--account ACCOUNT --shared shows every image ACCOUNT can use.`,
		Example: "  wsim images list\n  wsim images list --account 444455556666 --shared\n  wsim images list -o json | jq -r '.[].id'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := of.client()
			if err != nil {
				return err
			}
			if limit < 0 {
				return fmt.Errorf("--limit must be 0 (every image) or more, not %d", limit)
			}
			// The catalogue filters by Region only within an account; a
			// Region alone is filtered here, over every page.
			q := url.Values{}
			setNonEmpty(q, "account", account)
			regionHere := region != "" && account == ""
			if !regionHere {
				setNonEmpty(q, "region", region)
			}
			kinds := []string{kindImage}
			if shared {
				kinds = append(kinds, kindImageShare)
			}
			pageLimit := limit
			if regionHere {
				pageLimit = 0
			}
			type item struct {
				raw json.RawMessage
				r   dashboard.Resource
			}
			var items []item
			for _, k := range kinds {
				q.Set("kind", k)
				raw, _, err := c.listAll(cmd.Context(), "/_wsim/resources", q, "resources", pageLimit)
				if err != nil {
					return err
				}
				rs, err := decodeAll[dashboard.Resource](raw)
				if err != nil {
					return err
				}
				for i, r := range rs {
					if !regionHere || r.Region == region {
						items = append(items, item{raw[i], r})
					}
				}
			}
			// The order of the catalogue: newest first, then by account,
			// Region, kind and id.
			slices.SortStableFunc(items, func(a, b item) int {
				return cmp.Or(b.r.Created.Compare(a.r.Created), strings.Compare(a.r.Account, b.r.Account),
					strings.Compare(a.r.Region, b.r.Region), strings.Compare(a.r.Kind, b.r.Kind), strings.Compare(a.r.ID, b.r.ID))
			})
			if limit > 0 && len(items) > limit {
				items = items[:limit]
			}
			if of.output == OutputJSON {
				raw := make([]json.RawMessage, len(items))
				for i, it := range items {
					raw[i] = it.raw
				}
				return printJSON(cmd.OutOrStdout(), raw)
			}
			rs := make([]dashboard.Resource, len(items))
			for i, it := range items {
				rs[i] = it.r
			}
			return imagesTable(cmd.OutOrStdout(), rs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&account, "account", "", "only this account's images (and with --shared those shared with it)")
	f.StringVar(&region, "region", "", "only this Region")
	f.BoolVar(&shared, "shared", false, "also list each image as every account it is shared with sees it")
	f.IntVar(&limit, "limit", 0, "at most this many rows, the newest (0: every one)")
	return cmd
}

// imagesTable is the table of images list: catalogue rows of kind image
// and image-share.
func imagesTable(w io.Writer, rs []dashboard.Resource) error {
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		owner, origin := r.Account, r.Attributes["origin"]
		var sharedWith []string
		for _, rel := range r.Relations {
			switch rel.Type {
			case dashboard.RelSharedWith:
				sharedWith = append(sharedWith, rel.Account)
			case dashboard.RelSharedBy:
				owner, origin = rel.Account, "shared"
			}
		}
		rows = append(rows, []string{
			r.ID, cell(r.Name), r.Account, r.Region, owner, cell(r.State), cell(origin),
			cell(strings.Join(sharedWith, ",")), tagsCell(r.Tags), timeCell(r.Created),
		})
	}
	return table(w, []string{"IMAGE ID", "NAME", "ACCOUNT", "REGION", "OWNER", "STATE", "ORIGIN", "SHARED WITH", "TAGS", "CREATED"}, rows, "No images.")
}
