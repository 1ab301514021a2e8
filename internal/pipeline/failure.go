package pipeline

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Tags that script a failure on the resource they are attached to. They let a
// test make one specific import fail without any server configuration.
const (
	TagFailAt       = "wsim:fail-at"
	TagErrorCode    = "wsim:error-code"
	TagErrorMessage = "wsim:error-message"
)

// Length limits of ErrorDetails in the model (ErrorCode, ImageErrorMessage).
const (
	maxErrorCode    = 256
	maxErrorMessage = 2048
)

// ErrorCodes is the WorkspaceImageErrorDetailCode enum of the WorkSpaces
// model (API 2015-04-08, botocore 1.43.11), in model order.
var ErrorCodes = []string{
	"OutdatedPowershellVersion",
	"OfficeInstalled",
	"PCoIPAgentInstalled",
	"WindowsUpdatesEnabled",
	"AutoMountDisabled",
	"WorkspacesBYOLAccountNotFound",
	"WorkspacesBYOLAccountDisabled",
	"DHCPDisabled",
	"DiskFreeSpace",
	"AdditionalDrivesAttached",
	"OSNotSupported",
	"DomainJoined",
	"AzureDomainJoined",
	"FirewallEnabled",
	"VMWareToolsInstalled",
	"DiskSizeExceeded",
	"IncompatiblePartitioning",
	"PendingReboot",
	"AutoLogonEnabled",
	"RealTimeUniversalDisabled",
	"MultipleBootPartition",
	"Requires64BitOS",
	"ZeroRearmCount",
	"InPlaceUpgrade",
	"AntiVirusInstalled",
	"UEFINotSupported",
	"UnknownError",
	"AppXPackagesInstalled",
	"ReservedStorageInUse",
	"AdditionalDrivesPresent",
	"WindowsUpdatesRequired",
	"SysPrepFileMissing",
	"UserProfileMissing",
	"InsufficientDiskSpace",
	"EnvironmentVariablesPathMissingEntries",
	"DomainAccountServicesFound",
	"InvalidIp",
	"RemoteDesktopServicesDisabled",
	"WindowsModulesInstallerDisabled",
	"AmazonSsmAgentEnabled",
	"UnsupportedSecurityProtocol",
	"MultipleUserProfiles",
	"StagedAppxPackage",
	"UnsupportedOsUpgrade",
	"InsufficientRearmCount",
	"ProtocolOSIncompatibility",
	"MemoryIntegrityIncompatibility",
	"RestrictedDriveLetterInUse",
}

// codeMessages gives every error code a message in the style of the BYOL
// image checker: what is wrong and what to do about it. The model documents
// none of the enum values, so the wording is wsim's.
var codeMessages = map[string]string{
	"OutdatedPowershellVersion":              "The version of Windows PowerShell on the image is too old. Install PowerShell 4.0 or later and try again.",
	"OfficeInstalled":                        "Microsoft Office is installed on the image. Uninstall Office before importing the image; Office can be subscribed to through WorkSpaces instead.",
	"PCoIPAgentInstalled":                    "The PCoIP agent is installed on the image. Uninstall the PCoIP agent before importing the image.",
	"WindowsUpdatesEnabled":                  "Windows Update is enabled on the image. Disable Windows Update before importing the image; WorkSpaces manages updates.",
	"AutoMountDisabled":                      "Automount is disabled on the image. Enable automount (diskpart: automount enable) and try again.",
	"WorkspacesBYOLAccountNotFound":          "The account is not enabled for Bring Your Own License (BYOL). Enable BYOL for the account with ModifyAccount before importing images.",
	"WorkspacesBYOLAccountDisabled":          "Bring Your Own License (BYOL) is disabled for the account. Enable BYOL for the account with ModifyAccount and try again.",
	"DHCPDisabled":                           "The network adapter of the image does not use DHCP. Configure the network adapter to obtain its address through DHCP.",
	"DiskFreeSpace":                          "The C: drive of the image has less than 20 GB of free space. Free up disk space and try again.",
	"AdditionalDrivesAttached":               "Additional drives are attached to the image. Detach every drive other than C: before importing the image.",
	"OSNotSupported":                         "The operating system of the source image is not supported. Use a supported 64-bit edition of Windows 10 or Windows 11.",
	"DomainJoined":                           "The image is joined to an Active Directory domain. Remove it from the domain before importing the image.",
	"AzureDomainJoined":                      "The image is joined to Microsoft Entra ID (Azure AD). Remove it from Microsoft Entra ID before importing the image.",
	"FirewallEnabled":                        "Windows Defender Firewall is enabled for the public profile on the image. Turn it off for the public profile and try again.",
	"VMWareToolsInstalled":                   "VMware Tools is installed on the image. Uninstall VMware Tools before importing the image.",
	"DiskSizeExceeded":                       "The C: drive of the image is larger than 70 GB. Reduce the size of the system volume and try again.",
	"IncompatiblePartitioning":               "The disk partitioning of the image is not supported. Use a single system volume with a supported partition style.",
	"PendingReboot":                          "The image has a pending reboot, for example after installing updates. Restart the machine, let the updates finish and try again.",
	"AutoLogonEnabled":                       "Automatic logon is enabled on the image. Disable AutoLogon before importing the image.",
	"RealTimeUniversalDisabled":              "The RealTimeIsUniversal registry value is not set on the image. Set HKLM\\SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation\\RealTimeIsUniversal to 1.",
	"MultipleBootPartition":                  "The image has more than one boot partition. Only a single boot partition is supported.",
	"Requires64BitOS":                        "The operating system of the image is 32-bit. WorkSpaces requires a 64-bit edition of Windows.",
	"ZeroRearmCount":                         "The Windows rearm count of the image is 0, so Sysprep cannot generalize it. Use an image that has rearms left.",
	"InPlaceUpgrade":                         "The image was upgraded in place from an earlier version of Windows. Use an image built from a clean installation.",
	"AntiVirusInstalled":                     "Antivirus software is installed on the image. Uninstall it before importing the image; it can be reinstalled on the WorkSpaces afterwards.",
	"UEFINotSupported":                       "The boot mode of the image is not supported for its operating system version. Use a boot mode supported for that version of Windows.",
	"UnknownError":                           "An unexpected error occurred while processing the image. Try again; if the problem persists, contact AWS Support.",
	"AppXPackagesInstalled":                  "AppX packages are installed for individual users, which prevents Sysprep from generalizing the image. Remove them with Remove-AppxPackage and try again.",
	"ReservedStorageInUse":                   "Reserved storage is in use, which prevents Sysprep from generalizing the image. Disable reserved storage (DISM /Online /Set-ReservedStorageState /State:Disabled) and try again.",
	"AdditionalDrivesPresent":                "Additional volumes are present on the image. Remove every volume other than C: before importing the image.",
	"WindowsUpdatesRequired":                 "Windows updates must be installed on the image. Install the latest updates, restart and try again.",
	"SysPrepFileMissing":                     "Sysprep files are missing from the image (C:\\Windows\\System32\\Sysprep). Repair the Windows installation and try again.",
	"UserProfileMissing":                     "The user profile of the account used to prepare the image is missing. Sign in with that account once and try again.",
	"InsufficientDiskSpace":                  "There is not enough free disk space on the image to complete the import. Free up space on the C: drive and try again.",
	"EnvironmentVariablesPathMissingEntries": "The PATH environment variable of the image is missing required system entries such as %SystemRoot%\\System32. Restore them and try again.",
	"DomainAccountServicesFound":             "Services on the image run as domain accounts. Change them to run as local or system accounts before importing the image.",
	"InvalidIp":                              "The network configuration of the image uses a static or invalid IP address. Configure the network adapter to use DHCP.",
	"RemoteDesktopServicesDisabled":          "Remote Desktop Services is disabled on the image. Enable the Remote Desktop Services service and try again.",
	"WindowsModulesInstallerDisabled":        "The Windows Modules Installer service is disabled on the image. Set its startup type to Manual and try again.",
	"AmazonSsmAgentEnabled":                  "The Amazon SSM Agent is enabled on the image. Disable the AmazonSSMAgent service before importing the image.",
	"UnsupportedSecurityProtocol":            "The security protocol configuration of the image is not supported. Enable TLS 1.2 and try again.",
	"MultipleUserProfiles":                   "The image has more than one user profile. Delete every user profile except the one used to prepare the image.",
	"StagedAppxPackage":                      "An AppX package is staged but not installed for all users, which prevents Sysprep from generalizing the image. Remove the staged package and try again.",
	"UnsupportedOsUpgrade":                   "The operating system of the image was upgraded in an unsupported way. Use an image built from a clean installation.",
	"InsufficientRearmCount":                 "The Windows rearm count of the image is too low for Sysprep to generalize it. Use an image that has rearms left.",
	"ProtocolOSIncompatibility":              "The selected protocol is not supported by the operating system of the image. Windows 11 does not support PCOIP; use DCV.",
	"MemoryIntegrityIncompatibility":         "Memory integrity (core isolation) is enabled on the image and is not compatible with WorkSpaces. Turn off memory integrity and try again.",
	"RestrictedDriveLetterInUse":             "The image uses a drive letter reserved by WorkSpaces (D: holds the user volume). Assign another drive letter and try again.",
}

// DefaultFailure returns the failure wsim reports when a failure at stage of
// kind is scripted without a code or message.
func DefaultFailure(kind Kind, stage string) Failure {
	code, msg := "UnknownError", ""
	if lc, ok := kinds[kind]; ok {
		if c := lc.codes[stage]; c != "" {
			code = c
		}
		msg = lc.FailureMessage
	}
	if msg == "" {
		msg = codeMessages[code]
	}
	return Failure{Stage: stage, Code: code, Message: msg}
}

// withDefaults fills an empty Code from the stage's default and an empty
// Message from the code's own message, so a custom code never carries the
// text of a different check.
func (f Failure) withDefaults(kind Kind) Failure {
	def := DefaultFailure(kind, f.Stage)
	switch {
	case f.Code == "":
		f.Code = def.Code
		if f.Message == "" {
			f.Message = def.Message
		}
	case f.Message == "":
		if m, ok := codeMessages[f.Code]; ok {
			f.Message = m
		} else {
			f.Message = fmt.Sprintf("The %s failed with error code %s.", kind.noun(), f.Code)
		}
	}
	return f
}

// ParseFailureTags reads the wsim:fail-at, wsim:error-code and
// wsim:error-message tags of a new resource of kind. It returns nil, nil when
// there is no wsim:fail-at tag. An empty error code or message counts as
// absent and is defaulted. Codes are not limited to ErrorCodes so that
// clients can be tested against codes AWS may add.
func ParseFailureTags(kind Kind, tags map[string]string) (*Failure, error) {
	if !kind.Valid() {
		return nil, fmt.Errorf("unknown operation kind %q", kind)
	}
	stage, ok := tags[TagFailAt]
	if !ok {
		for _, t := range []string{TagErrorCode, TagErrorMessage} {
			if _, ok := tags[t]; ok {
				return nil, fmt.Errorf("tag %s requires tag %s naming the stage to fail at", t, TagFailAt)
			}
		}
		return nil, nil
	}
	f := Failure{Stage: stage, Code: tags[TagErrorCode], Message: tags[TagErrorMessage]}
	if err := validateFailure(kind, f, "tag "+TagFailAt); err != nil {
		return nil, err
	}
	f = f.withDefaults(kind)
	return &f, nil
}

// quoteShort shortens a refused value quoted in an error message, so that a
// huge value is not echoed back whole.
func quoteShort(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "..."
}

func validateFailure(kind Kind, f Failure, what string) error {
	if !kind.HasStage(f.Stage) {
		return fmt.Errorf("%s: %q is not a stage of %s; valid stages are %s",
			what, quoteShort(f.Stage), kind, strings.Join(kind.Stages(), ", "))
	}
	if n := utf8.RuneCountInString(f.Code); n > maxErrorCode {
		return fmt.Errorf("error code is %d characters long; the maximum is %d", n, maxErrorCode)
	}
	if n := utf8.RuneCountInString(f.Message); n > maxErrorMessage {
		return fmt.Errorf("error message is %d characters long; the maximum is %d", n, maxErrorMessage)
	}
	return nil
}

// FaultRule is a server-side rule that makes matching new operations fail,
// for clients whose code under test cannot add tags. Empty match fields
// match anything, except Kind: an empty Kind means custom-import, because
// FailAt names a stage and stages differ between kinds.
type FaultRule struct {
	ID          string `json:"id"`
	Account     string `json:"account,omitempty"`
	Region      string `json:"region,omitempty"`
	NamePattern string `json:"namePattern,omitempty"` // path.Match glob on the image name
	SourceID    string `json:"sourceId,omitempty"`    // AMI id, import task id or Image Builder ARN
	Kind        Kind   `json:"kind,omitempty"`
	FailAt      string `json:"failAt"`
	ErrorCode   string `json:"errorCode,omitempty"`
	// ErrorMessage defaults like a Failure's Message.
	ErrorMessage string `json:"errorMessage,omitempty"`
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// regionName is the Region shape of the WorkSpaces model.
var regionName = regexp.MustCompile(`^[-0-9a-z]{1,31}$`)

// Limits of fault rules, so that the rules every new operation is matched
// against stay small. The source id may be an Image Builder ARN, up to 2048
// characters in the model; image names are at most 64, which a pattern
// with escapes may exceed, hence 256.
const (
	// MaxFaultRules is how many fault rules there may be at once.
	MaxFaultRules  = 100
	maxNamePattern = 256
	maxSourceID    = 2048
)

func (r FaultRule) kind() Kind {
	if r.Kind == "" {
		return KindCustomImport
	}
	return r.Kind
}

// Validate reports whether r can ever apply: a known kind, a stage of that
// kind, a well-formed glob and a 12-digit account.
func (r FaultRule) Validate() error {
	k := r.kind()
	if !k.Valid() {
		valid := make([]string, len(kindOrder))
		for i, k := range kindOrder {
			valid[i] = string(k)
		}
		return fmt.Errorf("unknown kind %q: valid kinds are %s", quoteShort(string(r.Kind)), strings.Join(valid, ", "))
	}
	if r.Account != "" && !accountID.MatchString(r.Account) {
		return fmt.Errorf("account %q is not a 12-digit AWS account id", quoteShort(r.Account))
	}
	if r.Region != "" && !regionName.MatchString(r.Region) {
		return fmt.Errorf("region %q is not a Region name: 1 to 31 lowercase letters, digits and hyphens", quoteShort(r.Region))
	}
	if n := utf8.RuneCountInString(r.NamePattern); n > maxNamePattern {
		return fmt.Errorf("namePattern is %d characters long; the maximum is %d", n, maxNamePattern)
	}
	if n := utf8.RuneCountInString(r.SourceID); n > maxSourceID {
		return fmt.Errorf("sourceId is %d characters long; the maximum is %d", n, maxSourceID)
	}
	if r.SourceID != "" && k == KindAccountModification {
		// A BYOL account modification has no source, so the rule could
		// never match: refuse it rather than keep a rule that does nothing.
		return fmt.Errorf("sourceId cannot be used with kind %s: account modifications have no source", k)
	}
	if r.NamePattern != "" {
		// path.Match checks the whole pattern for syntax errors even when the
		// name does not match, so matching the empty name is enough.
		if _, err := path.Match(r.NamePattern, ""); err != nil {
			return fmt.Errorf("name pattern %q: %w", r.NamePattern, err)
		}
	}
	return validateFailure(k, Failure{Stage: r.FailAt, Code: r.ErrorCode, Message: r.ErrorMessage}, "failAt")
}

// Subject describes a new operation for matching against fault rules.
type Subject struct {
	// Kind is the operation kind; empty means custom-import, as in FaultRule.
	Kind                            Kind
	Account, Region, Name, SourceID string
}

// Matches reports whether r applies to s. A rule with a malformed pattern
// matches nothing.
func (r FaultRule) Matches(s Subject) bool {
	sk := s.Kind
	if sk == "" {
		sk = KindCustomImport
	}
	if r.kind() != sk {
		return false
	}
	if r.Account != "" && r.Account != s.Account {
		return false
	}
	if r.Region != "" && r.Region != s.Region {
		return false
	}
	if r.SourceID != "" && r.SourceID != s.SourceID {
		return false
	}
	if r.NamePattern != "" {
		ok, err := path.Match(r.NamePattern, s.Name)
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// MatchFailure returns the failure scripted by the first rule in rules that
// matches s, with defaults filled, or nil. Whether tags take precedence over
// rules is the caller's decision.
func MatchFailure(rules []FaultRule, s Subject) *Failure {
	for _, r := range rules {
		if !r.Matches(s) {
			continue
		}
		k := r.kind()
		if !k.HasStage(r.FailAt) {
			// An unvalidated rule must not produce a failure At would ignore.
			continue
		}
		f := Failure{Stage: r.FailAt, Code: r.ErrorCode, Message: r.ErrorMessage}.withDefaults(k)
		return &f
	}
	return nil
}
