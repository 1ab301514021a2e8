package pipeline

import (
	"strings"
	"testing"
)

func TestFaultRuleFieldLimits(t *testing.T) {
	tests := []struct {
		name    string
		rule    FaultRule
		wantErr string // "" when valid
	}{
		{"every field at its maximum", FaultRule{Region: strings.Repeat("a", 31), NamePattern: strings.Repeat("n", 256),
			SourceID: strings.Repeat("s", 2048), FailAt: "PENDING", ErrorCode: strings.Repeat("c", 256),
			ErrorMessage: strings.Repeat("m", 2048)}, ""},
		{"name pattern too long", FaultRule{NamePattern: strings.Repeat("n", 257), FailAt: "PENDING"},
			"namePattern is 257 characters long; the maximum is 256"},
		{"source id too long", FaultRule{SourceID: strings.Repeat("s", 2049), FailAt: "PENDING"},
			"sourceId is 2049 characters long; the maximum is 2048"},
		{"error code too long", FaultRule{FailAt: "PENDING", ErrorCode: strings.Repeat("c", 257)},
			"error code is 257 characters long; the maximum is 256"},
		{"error message too long", FaultRule{FailAt: "PENDING", ErrorMessage: strings.Repeat("m", 2049)},
			"error message is 2049 characters long; the maximum is 2048"},
		{"region too long", FaultRule{Region: strings.Repeat("a", 32), FailAt: "PENDING"},
			`region "` + strings.Repeat("a", 32) + `" is not a Region name`},
		{"region with capitals", FaultRule{Region: "US-EAST-1", FailAt: "PENDING"}, `region "US-EAST-1" is not a Region name`},
		{"huge stage quoted short", FaultRule{FailAt: strings.Repeat("x", 60000)},
			`failAt: "` + strings.Repeat("x", 64) + `..." is not a stage`},
		{"huge account quoted short", FaultRule{Account: strings.Repeat("1", 60000), FailAt: "PENDING"},
			`account "` + strings.Repeat("1", 64) + `..." is not a 12-digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			case err != nil && len(err.Error()) > 1000:
				t.Errorf("the error is %d bytes long: a refused value must not be echoed whole", len(err.Error()))
			}
		})
	}
}
