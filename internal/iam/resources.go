package iam

import (
	"encoding/json"
	"strings"
)

// Resource types of WorkSpaces in the Service Authorization Reference, by
// the word their ARNs carry:
// arn:${Partition}:workspaces:${Region}:${Account}:<type>/<id>.
const (
	TypeWorkspace = "workspace"        // workspaceid
	TypeBundle    = "workspacebundle"  // workspacebundle
	TypeImage     = "workspaceimage"   // workspaceimage
	TypeDirectory = "directory"        // directoryid
	TypeIPGroup   = "workspaceipgroup" // workspaceipgroup
)

// field names where an operation's input carries the ids of the resources
// it acts on: "DirectoryId" (a string member), "GroupIds[]" (a list of
// strings), "Workspaces[].BundleId" (a member of each element of a list).
// Several fields may name the same type. any is "*": the resource ids of
// type typ are read from the field, and an input without any (a Describe
// without ids, a Create of a new resource) is the type's wildcard ARN.
type field struct {
	typ  string
	path string
	// byPrefix takes the type from the id's prefix (CreateTags' ResourceId).
	byPrefix bool
}

func f(typ, path string) field { return field{typ: typ, path: path} }

// noResource marks an operation that supports no resource-level
// permissions: it is evaluated on "*".
var noResource = []field{}

// operationResources is the resources each implemented operation is
// authorized on, after the Service Authorization Reference for Amazon
// WorkSpaces. The key is the operation (and IAM action) name.
var operationResources = map[string][]field{
	"AssociateIpGroups":                    {f(TypeDirectory, "DirectoryId"), f(TypeIPGroup, "GroupIds[]")},
	"AuthorizeIpRules":                     {f(TypeIPGroup, "GroupId")},
	"CopyWorkspaceImage":                   {f(TypeImage, "SourceImageId")},
	"CreateIpGroup":                        {f(TypeIPGroup, "")},
	"CreateTags":                           {{path: "ResourceId", byPrefix: true}},
	"CreateUpdatedWorkspaceImage":          {f(TypeImage, "SourceImageId")},
	"CreateWorkspaceBundle":                {f(TypeBundle, ""), f(TypeImage, "ImageId")},
	"CreateWorkspaceImage":                 {f(TypeWorkspace, "WorkspaceId")},
	"CreateWorkspaces":                     {f(TypeDirectory, "Workspaces[].DirectoryId"), f(TypeBundle, "Workspaces[].BundleId")},
	"DeleteIpGroup":                        {f(TypeIPGroup, "GroupId")},
	"DeleteTags":                           {{path: "ResourceId", byPrefix: true}},
	"DeleteWorkspaceBundle":                {f(TypeBundle, "BundleId")},
	"DeleteWorkspaceImage":                 {f(TypeImage, "ImageId")},
	"DeregisterWorkspaceDirectory":         {f(TypeDirectory, "DirectoryId")},
	"DescribeAccount":                      noResource,
	"DescribeAccountModifications":         noResource,
	"DescribeClientProperties":             {f(TypeDirectory, "ResourceIds[]")},
	"DescribeCustomWorkspaceImageImport":   {f(TypeImage, "ImageId")},
	"DescribeImageAssociations":            {f(TypeImage, "ImageId")},
	"DescribeIpGroups":                     {f(TypeIPGroup, "GroupIds[]")},
	"DescribeTags":                         {{path: "ResourceId", byPrefix: true}},
	"DescribeWorkspaceBundles":             {f(TypeBundle, "BundleIds[]")},
	"DescribeWorkspaceDirectories":         {f(TypeDirectory, "DirectoryIds[]")},
	"DescribeWorkspaceImagePermissions":    {f(TypeImage, "ImageId")},
	"DescribeWorkspaceImages":              {f(TypeImage, "ImageIds[]")},
	"DescribeWorkspaceSnapshots":           {f(TypeWorkspace, "WorkspaceId")},
	"DescribeWorkspaces":                   {f(TypeWorkspace, "WorkspaceIds[]")},
	"DescribeWorkspacesConnectionStatus":   {f(TypeWorkspace, "WorkspaceIds[]")},
	"DisassociateIpGroups":                 {f(TypeDirectory, "DirectoryId"), f(TypeIPGroup, "GroupIds[]")},
	"ImportCustomWorkspaceImage":           {f(TypeImage, "")},
	"ImportWorkspaceImage":                 {f(TypeImage, "")},
	"ListAvailableManagementCidrRanges":    noResource,
	"MigrateWorkspace":                     {f(TypeWorkspace, "SourceWorkspaceId"), f(TypeBundle, "BundleId")},
	"ModifyAccount":                        noResource,
	"ModifyCertificateBasedAuthProperties": {f(TypeDirectory, "ResourceId")},
	"ModifyClientProperties":               {f(TypeDirectory, "ResourceId")},
	"ModifyEndpointEncryptionMode":         {f(TypeDirectory, "DirectoryId")},
	"ModifySamlProperties":                 {f(TypeDirectory, "ResourceId")},
	"ModifySelfservicePermissions":         {f(TypeDirectory, "ResourceId")},
	"ModifyStreamingProperties":            {f(TypeDirectory, "ResourceId")},
	"ModifyWorkspaceAccessProperties":      {f(TypeDirectory, "ResourceId")},
	"ModifyWorkspaceCreationProperties":    {f(TypeDirectory, "ResourceId")},
	"ModifyWorkspaceProperties":            {f(TypeWorkspace, "WorkspaceId")},
	"ModifyWorkspaceState":                 {f(TypeWorkspace, "WorkspaceId")},
	"RebootWorkspaces":                     {f(TypeWorkspace, "RebootWorkspaceRequests[].WorkspaceId")},
	"RebuildWorkspaces":                    {f(TypeWorkspace, "RebuildWorkspaceRequests[].WorkspaceId")},
	"RegisterWorkspaceDirectory":           {f(TypeDirectory, "DirectoryId")},
	"RestoreWorkspace":                     {f(TypeWorkspace, "WorkspaceId")},
	"RevokeIpRules":                        {f(TypeIPGroup, "GroupId")},
	"StartWorkspaces":                      {f(TypeWorkspace, "StartWorkspaceRequests[].WorkspaceId")},
	"StopWorkspaces":                       {f(TypeWorkspace, "StopWorkspaceRequests[].WorkspaceId")},
	"TerminateWorkspaces":                  {f(TypeWorkspace, "TerminateWorkspaceRequests[].WorkspaceId")},
	"UpdateRulesOfIpGroup":                 {f(TypeIPGroup, "GroupId")},
	"UpdateWorkspaceBundle":                {f(TypeBundle, "BundleId"), f(TypeImage, "ImageId")},
	"UpdateWorkspaceImagePermission":       {f(TypeImage, "ImageId")},
}

// Covers reports whether the operation has an entry in the resource table.
func Covers(operation string) bool {
	_, ok := operationResources[operation]
	return ok
}

// ResourceRef is one resource a request acts on: its type, its id ("*" for
// every resource of the type, the whole wildcard when typ is "") and the
// Region its ARN names.
type ResourceRef struct {
	Type, ID, Region string
}

// ARN is the resource's ARN in the account, or "*".
func (r ResourceRef) ARN(account string) string {
	if r.Type == "" {
		return "*"
	}
	return "arn:" + Partition(r.Region) + ":workspaces:" + r.Region + ":" + account + ":" + r.Type + "/" + r.ID
}

// typeOfID is the resource type of a WorkSpaces id by its prefix, as
// CreateTags takes any taggable resource.
func typeOfID(id string) string {
	switch {
	case strings.HasPrefix(id, "wsipg-"):
		return TypeIPGroup
	case strings.HasPrefix(id, "wsb-"):
		return TypeBundle
	case strings.HasPrefix(id, "wsi-"):
		return TypeImage
	case strings.HasPrefix(id, "ws-"):
		return TypeWorkspace
	case strings.HasPrefix(id, "d-"):
		return TypeDirectory
	}
	return ""
}

// Resources returns what the operation's input acts on in region, in the
// order of the table: every id the input names, or the wildcard of a type
// when it names none, or "*" for an operation without resources. in is the
// decoded input (any JSON-marshalable value).
func Resources(operation string, in any, region string) []ResourceRef {
	fields, ok := operationResources[operation]
	if !ok || len(fields) == 0 {
		return []ResourceRef{{}}
	}
	var doc map[string]any
	if b, err := json.Marshal(in); err == nil {
		json.Unmarshal(b, &doc)
	}
	var refs []ResourceRef
	seen := map[ResourceRef]bool{}
	add := func(r ResourceRef) {
		if !seen[r] {
			seen[r] = true
			refs = append(refs, r)
		}
	}
	for _, fd := range fields {
		r := region
		if operation == "CopyWorkspaceImage" {
			// The source image is in the source Region.
			if src, ok := doc["SourceRegion"].(string); ok && src != "" {
				r = src
			}
		}
		ids := lookup(doc, fd.path)
		if fd.byPrefix {
			for _, id := range ids {
				t := typeOfID(id)
				if t == "" {
					add(ResourceRef{})
					continue
				}
				add(ResourceRef{Type: t, ID: id, Region: r})
			}
			if len(ids) == 0 {
				add(ResourceRef{})
			}
			continue
		}
		if len(ids) == 0 {
			add(ResourceRef{Type: fd.typ, ID: "*", Region: r})
			continue
		}
		for _, id := range ids {
			add(ResourceRef{Type: fd.typ, ID: id, Region: r})
		}
	}
	return refs
}

// lookup reads the strings at path in doc (see field).
func lookup(doc map[string]any, path string) []string {
	if path == "" || doc == nil {
		return nil
	}
	head, rest, nested := strings.Cut(path, ".")
	name, isList := strings.CutSuffix(head, "[]")
	v, ok := doc[name]
	if !ok {
		return nil
	}
	if !isList {
		if s, ok := v.(string); ok && !nested {
			return []string{s}
		}
		return nil
	}
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if !nested {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
			continue
		}
		if m, ok := e.(map[string]any); ok {
			out = append(out, lookup(m, rest)...)
		}
	}
	return out
}

// Partition is the AWS partition of a Region: aws-cn for China, aws-us-gov
// for GovCloud, aws otherwise.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
