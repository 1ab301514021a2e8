package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsim/wsim/e2e/process"
)

// docCommand is one command line of a ```sh block of docs/cli.md.
type docCommand struct {
	line int    // where it starts in the file, from 1
	text string // as written, continuation lines included
	exit int    // the exit status its "# exits N" comment promises, else 0
	// output is the ```text block after the command's block, when the
	// command is the last of it.
	output *docOutput
}

// docOutput is a ```text block showing what a command prints.
type docOutput struct {
	line      int
	lines     []string
	firstOnly bool // a comment before it says the output varies
}

var exitsComment = regexp.MustCompile(`#\s*exits (\d+)\s*$`)

// docCommands reads the command lines of doc's sh blocks, and the text
// blocks that follow them.
func docCommands(t *testing.T, doc string) []docCommand {
	t.Helper()
	lines := strings.Split(doc, "\n")
	var cmds []docCommand
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```sh" {
			continue
		}
		var block []docCommand
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			l := lines[i]
			if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
				continue
			}
			c := docCommand{line: i + 1, text: l}
			for strings.HasSuffix(c.text, `\`) && i+1 < len(lines) {
				i++
				c.text += "\n" + lines[i]
			}
			if m := exitsComment.FindStringSubmatch(c.text); m != nil {
				c.exit, _ = strconv.Atoi(m[1])
			}
			block = append(block, c)
		}
		// The output of the block's last command: the text block after it.
		j, varies := i+1, false
		for ; j < len(lines); j++ {
			s := strings.TrimSpace(lines[j])
			if strings.HasPrefix(s, "<!-- output varies") {
				varies = true
			} else if s != "" {
				break
			}
		}
		if j < len(lines) && strings.TrimSpace(lines[j]) == "```text" && len(block) > 0 {
			out := &docOutput{line: j + 1, firstOnly: varies}
			for j++; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
				out.lines = append(out.lines, lines[j])
			}
			block[len(block)-1].output = out
		}
		cmds = append(cmds, block...)
	}
	return cmds
}

var (
	docImageID = regexp.MustCompile(`\bwsi-[0-9a-z]{9}\b`)
	docRuleID  = regexp.MustCompile(`\brule-[0-9a-z]{8}\b`)
	docTime    = regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b`)
	docSpaces  = regexp.MustCompile(`\s+`)
	// What the control API's JSON carries that differs between runs.
	docNumber   = regexp.MustCompile(`"(epoch|offsetSeconds)":-?[0-9.e+]+`)
	docVersion  = regexp.MustCompile(`"version":"[^"]*"`)
	docDuration = regexp.MustCompile(`\b\d+h\d+m[0-9.]+s\b`)
)

// normalizeOutput makes a line of output comparable across runs: ids and
// times replaced, spaces collapsed (so columns may be wider or narrower).
func normalizeOutput(l string) string {
	l = docImageID.ReplaceAllString(l, "wsi-ID")
	l = docRuleID.ReplaceAllString(l, "rule-ID")
	l = docTime.ReplaceAllString(l, "TIME")
	l = docNumber.ReplaceAllString(l, `"$1":N`)
	l = docVersion.ReplaceAllString(l, `"version":"V"`)
	l = docDuration.ReplaceAllString(l, "DURATION")
	return strings.TrimSpace(docSpaces.ReplaceAllString(l, " "))
}

// TestCLIDocs runs the examples of docs/cli.md and docs/control-api.md,
// each document in order in one bash session against a fresh wsim started
// with the flags of the document's own `wsim serve` line: each command must
// exit as the document says and print what it shows.
func TestCLIDocs(t *testing.T) {
	for _, doc := range []string{"cli.md", "control-api.md"} {
		t.Run(doc, func(t *testing.T) {
			t.Parallel()
			runDocExamples(t, doc)
		})
	}
}

// serveArgs are the flags of the first `wsim serve` line of cmds, without
// the trailing `&`.
func serveArgs(t *testing.T, cmds []docCommand) []string {
	t.Helper()
	for _, c := range cmds {
		if f := strings.Fields(c.text); len(f) >= 2 && f[0] == "wsim" && f[1] == "serve" {
			return slices.DeleteFunc(f[2:], func(s string) bool { return s == "&" })
		}
	}
	t.Fatal("the document has no `wsim serve` line to start its session with")
	return nil
}

func runDocExamples(t *testing.T, name string) {
	for _, tool := range []string{"bash", "aws", "jq", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("docs/%s's examples need %s: %v", name, tool, err)
		}
	}
	raw, err := os.ReadFile("../docs/" + name)
	if err != nil {
		t.Fatal(err)
	}
	srv := process.Start(t, serveArgs(t, docCommands(t, string(raw)))...)
	addr := strings.TrimPrefix(srv.URL, "http://")
	doc := strings.NewReplacer("127.0.0.1:4599", addr, "localhost:4599", addr).Replace(string(raw))
	cmds := docCommands(t, doc)
	if len(cmds) < 10 {
		t.Fatalf("found only %d commands in docs/%s", len(cmds), name)
	}

	// `wsim` on the PATH is the binary under test, whatever its file name.
	dir := t.TempDir()
	bin, home := filepath.Join(dir, "bin"), filepath.Join(dir, "home")
	for _, d := range []string{bin, home} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(process.Command(t).Path, filepath.Join(bin, "wsim")); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString("set -o pipefail\ncd \"$HOME\"\n")
	var run []docCommand
	for _, c := range cmds {
		if strings.HasPrefix(c.text, "wsim serve") {
			continue // the test's server stands for it
		}
		fmt.Fprintf(&script, "printf '\\036%d\\n'\n{\n%s\n} 2>&1\nprintf '\\037%d %%d\\n' $?\n", len(run), c.text, len(run))
		run = append(run, c)
	}
	path := filepath.Join(dir, "docs.sh")
	if err := os.WriteFile(path, []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", path)
	cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + home,
		"WSIM_ENDPOINT=" + srv.URL, "LC_ALL=C.UTF-8"}
	if v, ok := os.LookupEnv("PYENV_ROOT"); ok {
		cmd.Env = append(cmd.Env, "PYENV_ROOT="+v)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash %s: %v\n%s", path, err, out)
	}

	rest := string(out)
	for i, c := range run {
		start, end := fmt.Sprintf("\x1e%d\n", i), fmt.Sprintf("\x1f%d ", i)
		a, b := strings.Index(rest, start), strings.Index(rest, end)
		if a < 0 || b < a {
			t.Fatalf("docs/%s:%d: %q did not run to the end:\n%s", name, c.line, c.text, rest)
		}
		printed := rest[a+len(start) : b]
		status, tail, _ := strings.Cut(rest[b+len(end):], "\n")
		rest = tail
		if code, _ := strconv.Atoi(status); code != c.exit {
			t.Errorf("docs/%s:%d: %s\nexited %s, want %d; it printed:\n%s", name, c.line, c.text, status, c.exit, printed)
			continue
		}
		if c.output == nil {
			continue
		}
		got := strings.Split(strings.TrimRight(printed, "\n"), "\n")
		want := c.output.lines
		if c.output.firstOnly {
			got, want = got[:1], want[:1]
		}
		if len(got) != len(want) {
			t.Errorf("docs/%s:%d: %s\nprints %d lines, docs/%s:%d shows %d; it printed:\n%s", name, c.line, c.text, len(got), name, c.output.line, len(want), printed)
			continue
		}
		for k := range got {
			if g, w := normalizeOutput(got[k]), normalizeOutput(want[k]); g != w {
				t.Errorf("docs/%s:%d: %s\nline %d is\n  %s\nbut docs/%s:%d shows\n  %s\nit printed:\n%s", name, c.line, c.text, k+1, g, name, c.output.line, w, printed)
				break
			}
		}
	}
}
