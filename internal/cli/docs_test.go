package cli

import (
	"os"
	"strings"
	"testing"
)

// shellToken is a word or an operator of a shell command line.
type shellToken struct {
	word string
	op   string // "|", "&&", ";", ">", "<", "$(", "<(", ")" ...; "" for a word
}

// shellTokens splits a command line as a POSIX shell would, enough for the
// examples in the documentation: quotes, backslashes, comments, pipes,
// lists, redirections and command substitutions.
func shellTokens(t *testing.T, line string) []shellToken {
	t.Helper()
	var (
		toks   []shellToken
		word   strings.Builder
		inWord bool
	)
	flush := func() {
		if inWord {
			toks = append(toks, shellToken{word: word.String()})
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			i++
			if line[i] != '\n' {
				word.WriteByte(line[i])
				inWord = true
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				t.Fatalf("unterminated ' in %q", line)
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case c == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				t.Fatalf("unterminated \" in %q", line)
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case c == '#' && !inWord:
			i = len(line)
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		case (c == '$' || c == '<') && i+1 < len(line) && line[i+1] == '(':
			flush()
			toks = append(toks, shellToken{op: line[i : i+2]})
			i++
		case strings.IndexByte("|&;<>()", c) >= 0:
			flush()
			op := string(c)
			if i+1 < len(line) && (line[i:i+2] == "&&" || line[i:i+2] == "||" || line[i:i+2] == ">>") {
				op, i = line[i:i+2], i+1
			}
			toks = append(toks, shellToken{op: op})
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return toks
}

// wsimInvocations returns the arguments of every `wsim` a command line
// runs: at the start of a command (after variable assignments), of a
// pipeline stage, a list item or a command substitution.
func wsimInvocations(t *testing.T, line string) [][]string {
	t.Helper()
	var (
		out      [][]string
		cur      []string
		inWsim   bool
		atStart  = true
		skipNext bool
	)
	end := func() {
		if inWsim {
			out = append(out, cur)
		}
		cur, inWsim, atStart = nil, false, true
	}
	for _, tok := range shellTokens(t, line) {
		switch {
		case skipNext:
			skipNext = false
		case tok.op == ">" || tok.op == ">>" || tok.op == "<":
			skipNext = true // the file redirected to or from
		case tok.op != "":
			end()
		case atStart && strings.Contains(tok.word, "=") && !strings.HasPrefix(tok.word, "-"):
			// VAR=value before the command
		case atStart:
			atStart, inWsim = false, tok.word == "wsim"
		case inWsim:
			cur = append(cur, tok.word)
		}
	}
	end()
	return out
}

func TestShellTokens(t *testing.T) {
	got := wsimInvocations(t, `X=$(wsim faults add --name-pattern 'nightly-*' -o json | jq -r .id) && `+
		"WSIM_ENDPOINT=http://x wsim clock show \\\n  -o json > out.json; echo wsim; source <(wsim completion bash) # wsim no")
	want := [][]string{{"faults", "add", "--name-pattern", "nightly-*", "-o", "json"}, {"clock", "show", "-o", "json"}, {"completion", "bash"}}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
			t.Errorf("invocation %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestDocCommandsParse checks that every wsim command line in the sh blocks
// of docs/cli.md and the README names a command that exists, with flags it
// has and arguments it accepts. (e2e's TestCLIDocs runs docs/cli.md's.)
func TestDocCommandsParse(t *testing.T) {
	seen := map[string]bool{}
	for _, file := range []string{"../../docs/cli.md", "../../README.md"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		inSh := false
		var line strings.Builder
		for n, l := range strings.Split(string(raw), "\n") {
			switch s := strings.TrimSpace(l); {
			case s == "```sh":
				inSh = true
				continue
			case strings.HasPrefix(s, "```"):
				inSh = false
				continue
			}
			if !inSh {
				continue
			}
			line.WriteString(l + "\n")
			if strings.HasSuffix(l, `\`) {
				continue
			}
			for _, args := range wsimInvocations(t, line.String()) {
				if err := parses(args); err != nil {
					t.Errorf("%s:%d: wsim %s: %v", file, n+1, strings.Join(args, " "), err)
				}
				root := newRoot()
				root.InitDefaultCompletionCmd()
				if c, _, err := root.Find(args); err == nil {
					seen[c.CommandPath()] = true
				}
			}
			line.Reset()
		}
	}
	// docs/cli.md shows every operator command.
	for _, path := range []string{
		"wsim imports list", "wsim imports show", "wsim imports watch", "wsim images list",
		"wsim clock show", "wsim clock freeze", "wsim clock resume", "wsim clock advance", "wsim clock set",
		"wsim faults list", "wsim faults add", "wsim faults rm", "wsim reset", "wsim completion bash", "wsim completion zsh", "wsim completion fish",
	} {
		if !seen[path] {
			t.Errorf("no example of %s in docs/cli.md", path)
		}
	}
}

// parses reports whether wsim would accept args, without running anything.
func parses(args []string) error {
	root := newRoot()
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		return err
	}
	if err := cmd.ValidateRequiredFlags(); err != nil {
		return err
	}
	return cmd.ValidateFlagGroups()
}

// TestParses makes sure the check above refuses what wsim refuses.
func TestParses(t *testing.T) {
	for _, tt := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"imports", "list", "--state", "failed", "-o", "json"}, true},
		{[]string{"clock", "advance", "45m", "--endpoint", "http://127.0.0.1:4599"}, true},
		{[]string{"completion", "zsh"}, true},
		{[]string{"serve", "--store", "memory"}, true},
		{[]string{"imports", "lst"}, false},
		{[]string{"imports", "list", "--status", "failed"}, false},
		{[]string{"imports", "show"}, false},
		{[]string{"clock", "advance"}, false},
		{[]string{"faults", "add", "--kind", "copy"}, false},
		{[]string{"faults", "rm"}, false},
	} {
		if err := parses(tt.args); (err == nil) != tt.ok {
			t.Errorf("parses(%q) = %v, want ok %v", tt.args, err, tt.ok)
		}
	}
}
