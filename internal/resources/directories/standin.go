package directories

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wsim/wsim/internal/api"
	"github.com/wsim/wsim/internal/records"
)

// Declaration is a Directory Service directory as the control API declares
// it (POST /_wsim/directories). Every field but Account, Region and
// DirectoryID has a default: those of the directory friendly mode would
// make up for the id.
type Declaration struct {
	Account     string `json:"account"`
	Region      string `json:"region"`
	DirectoryID string `json:"directoryId"`
	// Name is the directory's DNS name (DirectoryName in WorkSpaces).
	Name string `json:"name,omitempty"`
	// Type is SIMPLE_AD or AD_CONNECTOR.
	Type string `json:"type,omitempty"`
	// Stage is the Directory Service stage (Active unless said otherwise).
	Stage            string   `json:"stage,omitempty"`
	DNSIPAddresses   []string `json:"dnsIpAddresses,omitempty"`
	SubnetIDs        []string `json:"subnetIds,omitempty"`
	CustomerUserName string   `json:"customerUserName,omitempty"`
	Users            []string `json:"users,omitempty"`
}

// ErrInvalidDeclaration wraps what is wrong with a refused declaration.
var ErrInvalidDeclaration = errors.New("invalid directory declaration")

// ErrNotDeclared is returned when undeclaring a directory that is not declared.
var ErrNotDeclared = errors.New("no such declared directory")

// ErrStillRegistered is returned when undeclaring a directory that is
// still registered with WorkSpaces, which Directory Service refuses too.
var ErrStillRegistered = errors.New("directory is registered with WorkSpaces")

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	dsIDPattern    = regexp.MustCompile(`^d-[0-9a-f]{8,63}$`)
	wsdIDPattern   = regexp.MustCompile(`^wsd-[0-9a-z]{8,63}$`)
	subnetPattern  = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	domainPattern  = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$`)
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidDeclaration, fmt.Sprintf(format, args...))
}

// record checks the declaration and completes it with its defaults.
func (dec Declaration) record() (*records.DSDirectory, error) {
	switch {
	case !accountPattern.MatchString(dec.Account):
		return nil, invalid("account %q is not a 12-digit account id", dec.Account)
	case !regionPattern.MatchString(dec.Region):
		return nil, invalid("region %q is not a Region name such as us-east-1", dec.Region)
	case !dsIDPattern.MatchString(dec.DirectoryID) && !wsdIDPattern.MatchString(dec.DirectoryID):
		return nil, invalid("directoryId %q is neither a Directory Service id (d- and 8 to 63 hex digits) nor a WorkSpaces wsd- id", dec.DirectoryID)
	}
	d := records.FriendlyDSDirectory(dec.Account, dec.Region, dec.DirectoryID)
	if dec.Name != "" {
		if len(dec.Name) > 255 || !domainPattern.MatchString(dec.Name) {
			return nil, invalid("name %q is not a DNS domain name such as corp.example.com", dec.Name)
		}
		d.DomainName = dec.Name
	}
	if dec.Type != "" {
		if dec.Type != api.WorkspaceDirectoryTypeSimpleAd && dec.Type != api.WorkspaceDirectoryTypeAdConnector {
			return nil, invalid("type %q is not SIMPLE_AD or AD_CONNECTOR", dec.Type)
		}
		d.Type = dec.Type
	}
	if dec.Stage != "" {
		if !slices.Contains(records.DSStages, dec.Stage) {
			return nil, invalid("stage %q is not a Directory Service stage; use one of %s", dec.Stage, strings.Join(records.DSStages, ", "))
		}
		d.Stage = dec.Stage
	}
	if dec.DNSIPAddresses != nil {
		if len(dec.DNSIPAddresses) != 2 {
			return nil, invalid("dnsIpAddresses needs two addresses, not %d", len(dec.DNSIPAddresses))
		}
		for _, a := range dec.DNSIPAddresses {
			if ip, err := netip.ParseAddr(a); err != nil || !ip.Is4() {
				return nil, invalid("dnsIpAddresses: %q is not an IPv4 address", a)
			}
		}
		d.DNSIPAddresses = slices.Clone(dec.DNSIPAddresses)
	}
	if dec.SubnetIDs != nil {
		if len(dec.SubnetIDs) != 2 || dec.SubnetIDs[0] == dec.SubnetIDs[1] {
			return nil, invalid("subnetIds needs two different subnets, in two Availability Zones")
		}
		for _, s := range dec.SubnetIDs {
			if !subnetPattern.MatchString(s) {
				return nil, invalid("subnetIds: %q is not a subnet id such as subnet-0123abcd", s)
			}
		}
		d.SubnetIDs = slices.Clone(dec.SubnetIDs)
	}
	if dec.CustomerUserName != "" {
		d.CustomerUserName = dec.CustomerUserName
	}
	for _, u := range dec.Users {
		if n := len(u); n < 1 || n > 63 || strings.ContainsAny(u, " \t\r\n") {
			return nil, invalid("user %q is not a user name of 1 to 63 characters without spaces", u)
		}
	}
	d.Users = records.SortUsers(dec.Users)
	return d, nil
}

// Declare declares a Directory Service directory (or the users of a wsd-
// directory), replacing an earlier declaration of the same id; created is
// false when it replaced one. A replacement changes what later
// registrations read and which users exist, not a registration already made.
func Declare(ctx context.Context, db *records.DB, dec Declaration, now time.Time) (d *records.DSDirectory, created bool, err error) {
	d, err = dec.record()
	if err != nil {
		return nil, false, err
	}
	d.Created = now
	err = db.Update(ctx, func(tx *records.Tx) error {
		old, err := records.DSDirectories.Find(ctx, tx, d.Account, d.Region, d.ID)
		if err != nil {
			return err
		}
		created = old == nil
		if created {
			return records.DSDirectories.Insert(ctx, tx, d)
		}
		old.DomainName, old.Type, old.Stage, old.DNSIPAddresses = d.DomainName, d.Type, d.Stage, d.DNSIPAddresses
		old.SubnetIDs, old.CustomerUserName, old.Users = d.SubnetIDs, d.CustomerUserName, d.Users
		d = old
		return records.DSDirectories.Put(ctx, tx, old)
	})
	return d, created, err
}

// Undeclare removes a declared directory. Directory Service does not delete a
// directory registered with WorkSpaces, and neither does wsim.
func Undeclare(ctx context.Context, db *records.DB, account, region, id string, now time.Time) error {
	return db.Update(ctx, func(tx *records.Tx) error {
		d, err := records.DSDirectories.Find(ctx, tx, account, region, id)
		if err != nil {
			return err
		}
		if d == nil {
			return fmt.Errorf("%w: %s is not declared in account %s, Region %s", ErrNotDeclared, id, account, region)
		}
		reg, err := records.FindDirectory(ctx, tx, account, region, id, now)
		if err != nil {
			return err
		}
		if reg != nil && strings.HasPrefix(id, "d-") {
			return fmt.Errorf("%w: %s is %s; deregister it from WorkSpaces first", ErrStillRegistered, id, reg.State(now))
		}
		return records.DSDirectories.Delete(ctx, tx, d)
	})
}

// Declared lists the declared directories of the account in the Region, or
// of every account and Region when account is empty, in (account, Region,
// id) order.
func Declared(ctx context.Context, db *records.DB, account, region string) ([]*records.DSDirectory, error) {
	if account != "" && region != "" {
		return records.DSDirectories.List(ctx, db, account, region)
	}
	var out []*records.DSDirectory
	after := records.Key{}
	for {
		batch, err := records.DSDirectories.Scan(ctx, db, after, 500)
		if err != nil {
			return nil, err
		}
		for _, d := range batch {
			if (account == "" || d.Account == account) && (region == "" || d.Region == region) {
				out = append(out, d)
			}
		}
		if len(batch) < 500 {
			return out, nil
		}
		last := batch[len(batch)-1]
		after = records.Key{Account: last.Account, Region: last.Region, ID: last.ID}
	}
}
