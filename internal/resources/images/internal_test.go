package images

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/wsim/wsim/internal/api"
)

func TestImagePageTokens(t *testing.T) {
	for _, p := range []imagePage{{phaseOwned, "wsi-abc123def"}, {phaseShared, ""}, {phaseShared, "wsi-zzz999zzz"}} {
		got, err := decodeImagePage(p.token())
		if err != nil || got != p {
			t.Errorf("round trip of %+v = %+v, %v", p, got, err)
		}
	}
	start, err := decodeImagePage(nil)
	if err != nil || start != (imagePage{phase: phaseOwned}) {
		t.Errorf("no token = %+v, %v; want the start of the owned phase", start, err)
	}
	// Tokens of the earlier single-phase format still work.
	old, err := decodeImagePage(api.String(base64.RawURLEncoding.EncodeToString([]byte("v1:wsi-abc123def"))))
	if err != nil || old != (imagePage{phaseOwned, "wsi-abc123def"}) {
		t.Errorf("v1 token = %+v, %v", old, err)
	}
	for _, bad := range []string{"", "!!!", "djE", "aTI6eDp3c2k", "aTI6b3dzaQ"} {
		if _, err := decodeImagePage(api.String(bad)); err == nil {
			t.Errorf("token %q accepted", bad)
		} else if e, ok := err.(*api.Error); !ok || e.Code != "ValidationException" {
			t.Errorf("token %q: %v, want a ValidationException", bad, err)
		}
	}
}

func TestPageCovers(t *testing.T) {
	tests := []struct {
		page      imagePage
		phase, id string
		want      bool
	}{
		{imagePage{phaseOwned, ""}, phaseOwned, "wsi-a", false},
		{imagePage{phaseOwned, "wsi-b"}, phaseOwned, "wsi-a", true},
		{imagePage{phaseOwned, "wsi-b"}, phaseOwned, "wsi-b", true},
		{imagePage{phaseOwned, "wsi-b"}, phaseOwned, "wsi-c", false},
		{imagePage{phaseOwned, "wsi-z"}, phaseShared, "wsi-a", false},
		{imagePage{phaseShared, ""}, phaseOwned, "wsi-z", true},
		{imagePage{phaseShared, "wsi-b"}, phaseShared, "wsi-a", true},
		{imagePage{phaseShared, "wsi-b"}, phaseShared, "wsi-c", false},
	}
	for _, tt := range tests {
		if got := tt.page.covers(tt.phase, tt.id); got != tt.want {
			t.Errorf("%+v.covers(%s, %s) = %v, want %v", tt.page, tt.phase, tt.id, got, tt.want)
		}
	}
}

func TestCheckApplications(t *testing.T) {
	const (
		o16 = api.ApplicationMicrosoftOffice2016
		o19 = api.ApplicationMicrosoftOffice2019
		w10 = api.OSVersionWindows10
		w11 = api.OSVersionWindows11
	)
	tests := []struct {
		process string
		apps    []string
		os      string
		want    string // error code, "" for none
	}{
		{"BYOL_REGULAR", nil, w11, ""},
		{"BYOL_REGULAR", []string{o16, o19}, w10, "InvalidParameterValuesException"},
		{"BYOL_REGULAR", []string{o16}, w11, ""},
		{"BYOL_REGULAR_WSP", []string{o16}, w10, ""},
		{"BYOL_REGULAR_WSP", []string{o16}, w11, "OperationNotSupportedException"},
		{"BYOL_REGULAR_WSP", []string{o19}, w11, ""},
		{"BYOL_GRAPHICS_G4DN_WSP", []string{o19}, w11, "OperationNotSupportedException"},
		{"BYOL_GRAPHICS_G4DN_WSP", []string{o19}, w10, ""},
		{"BYOL_GRAPHICS_G4DN_WSP", nil, w11, ""},
	}
	for _, tt := range tests {
		err := checkApplications(tt.process, tt.apps, tt.os)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s %v %s: %v", tt.process, tt.apps, tt.os, err)
			}
			continue
		}
		var apiErr api.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.want {
			t.Errorf("%s %v %s: %v, want %s", tt.process, tt.apps, tt.os, err, tt.want)
		}
	}
	if v, err := legacyOSVersion(map[string]string{}); err != nil || v != w10 {
		t.Errorf("default OS = %q, %v", v, err)
	}
	if _, err := legacyOSVersion(map[string]string{TagOSVersion: "Windows_7"}); err == nil {
		t.Error("Windows_7 accepted")
	}
}
