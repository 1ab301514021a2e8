// Command apigen generates package api from the pinned WorkSpaces service model.
//
// It is run by `go generate ./internal/api` and writes the zz_*.go files next to
// the model. With -import it first refreshes the pinned model from a botocore
// service-2.json(.gz), dropping documentation text that the generator never reads.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

const modelPath = "model/workspaces-2015-04-08.json"

type model struct {
	Metadata   map[string]any        `json:"metadata"`
	Operations map[string]*operation `json:"operations"`
	Shapes     map[string]*shape     `json:"shapes"`
}

type ref struct {
	Shape string `json:"shape"`
}

type operation struct {
	Name   string `json:"name"`
	Input  *ref   `json:"input"`
	Output *ref   `json:"output"`
	Errors []ref  `json:"errors"`
}

type shape struct {
	Type      string          `json:"type"`
	Members   map[string]*ref `json:"-"`
	Order     []string        `json:"-"`
	Required  []string        `json:"required"`
	Member    *ref            `json:"member"`
	Key       *ref            `json:"key"`
	Value     *ref            `json:"value"`
	Min       *float64        `json:"min"`
	Max       *float64        `json:"max"`
	Pattern   string          `json:"pattern"`
	Enum      []string        `json:"enum"`
	Exception bool            `json:"exception"`
	Union     bool            `json:"union"`
	Error     *struct {
		HTTPStatusCode int `json:"httpStatusCode"`
	} `json:"error"`
}

func main() {
	importFrom := flag.String("import", "", "refresh the pinned model from this botocore service-2.json(.gz) first")
	flag.Parse()
	if *importFrom != "" {
		if err := importModel(*importFrom); err != nil {
			log.Fatal(err)
		}
	}
	raw, err := os.ReadFile(modelPath)
	if err != nil {
		log.Fatal(err)
	}
	m, err := parseModel(raw)
	if err != nil {
		log.Fatal(err)
	}
	files, err := generate(m)
	if err != nil {
		log.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(name, src, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// importModel rewrites the pinned model without documentation, keeping key
// order as botocore ships it so that diffs between versions stay readable.
func importModel(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		r = gz
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	stripped, err := stripDocs(raw)
	if err != nil {
		return err
	}
	return os.WriteFile(modelPath, stripped, 0o644)
}

// stripDocs removes every "documentation" and "documentationUrl" member while
// preserving object key order, which encoding/json maps would lose.
func stripDocs(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	if err := copyValue(dec, &out, 0); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func copyValue(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	indent := func(d int) { out.WriteString("\n" + strings.Repeat("  ", d)) }
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			out.WriteByte('{')
			first := true
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key := kt.(string)
				if key == "documentation" || key == "documentationUrl" {
					var skip json.RawMessage
					if err := dec.Decode(&skip); err != nil {
						return err
					}
					continue
				}
				if !first {
					out.WriteByte(',')
				}
				first = false
				indent(depth + 1)
				kb, _ := json.Marshal(key)
				out.Write(kb)
				out.WriteString(": ")
				if err := copyValue(dec, out, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			if !first {
				indent(depth)
			}
			out.WriteByte('}')
		case '[':
			out.WriteByte('[')
			first := true
			for dec.More() {
				if !first {
					out.WriteString(", ")
				}
				first = false
				if err := copyValue(dec, out, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			out.WriteByte(']')
		}
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return err
		}
		out.Write(b)
	}
	return nil
}

// parseModel decodes the model, keeping structure members in declaration
// order: validation messages list members in that order.
func parseModel(raw []byte) (*model, error) {
	var m model
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var rawShapes struct {
		Shapes map[string]json.RawMessage `json:"shapes"`
	}
	if err := json.Unmarshal(raw, &rawShapes); err != nil {
		return nil, err
	}
	for name, s := range m.Shapes {
		var mem struct {
			Members json.RawMessage `json:"members"`
		}
		if err := json.Unmarshal(rawShapes.Shapes[name], &mem); err != nil {
			return nil, err
		}
		if len(mem.Members) == 0 {
			continue
		}
		s.Members = map[string]*ref{}
		dec := json.NewDecoder(bytes.NewReader(mem.Members))
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			var r ref
			if err := dec.Decode(&r); err != nil {
				return nil, err
			}
			s.Members[kt.(string)] = &r
			s.Order = append(s.Order, kt.(string))
		}
	}
	return &m, nil
}

type generator struct {
	m        *model
	inputs   map[string]bool   // shapes reachable from an operation input
	outputs  map[string]bool   // shapes reachable from an operation output
	typeName map[string]string // structure shape name → Go type name
	patterns []string
	patIndex map[string]int
}

func generate(m *model) (map[string][]byte, error) {
	g := &generator{m: m, typeName: map[string]string{}, patIndex: map[string]int{}, inputs: map[string]bool{}, outputs: map[string]bool{}}
	for name, s := range m.Shapes {
		if s.Type == "structure" {
			g.typeName[name] = name
		}
	}
	for name, op := range m.Operations {
		g.typeName[op.Input.Shape] = name + "Input"
		g.typeName[op.Output.Shape] = name + "Output"
	}
	for _, op := range m.Operations {
		markReachable(m, g.inputs, op.Input.Shape)
		markReachable(m, g.outputs, op.Output.Shape)
	}
	files := map[string][]byte{}
	for name, fn := range map[string]func(*bytes.Buffer) error{
		"zz_operations.go": g.operations,
		"zz_shapes.go":     g.shapes,
		"zz_enums.go":      g.enums,
		"zz_errors.go":     g.errors,
	} {
		var b bytes.Buffer
		fmt.Fprintf(&b, "// Code generated by apigen from %s. DO NOT EDIT.\n\npackage api\n\n", modelPath)
		if err := fn(&b); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		src, err := format.Source(b.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: gofmt: %w\n%s", name, err, b.Bytes())
		}
		files[name] = src
	}
	return files, nil
}

// markReachable records in seen the shapes a request or a response can
// carry: only request shapes need validators, only response shapes encoders.
func markReachable(m *model, seen map[string]bool, name string) {
	if seen[name] {
		return
	}
	seen[name] = true
	s := m.Shapes[name]
	for _, r := range s.Members {
		markReachable(m, seen, r.Shape)
	}
	for _, r := range []*ref{s.Member, s.Key, s.Value} {
		if r != nil {
			markReachable(m, seen, r.Shape)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func exported(name string) string { return strings.ToUpper(name[:1]) + name[1:] }

// wireName is how the AWS validation framework names a member in messages.
func wireName(name string) string { return strings.ToLower(name[:1]) + name[1:] }

func (g *generator) operations(b *bytes.Buffer) error {
	ops := sortedKeys(g.m.Operations)
	fmt.Fprintf(b, "// APIVersion is the version of the WorkSpaces API the model describes.\nconst APIVersion = %q\n\n", g.m.Metadata["apiVersion"])
	fmt.Fprintf(b, "// TargetPrefix is what X-Amz-Target carries before the operation name.\nconst TargetPrefix = %q\n\n", g.m.Metadata["targetPrefix"])
	b.WriteString("// The typed operation table: register an implementation with Handle(r, Op<Name>, fn).\nvar (\n")
	for _, name := range ops {
		op := g.m.Operations[name]
		var errs []string
		for _, e := range op.Errors {
			errs = append(errs, strconv.Quote(e.Shape))
		}
		fmt.Fprintf(b, "\tOp%s = Op[*%sInput, *%sOutput]{&Operation{\n\t\tName: %q,\n\t\tErrors: []string{%s},\n", name, name, name, name, strings.Join(errs, ", "))
		fmt.Fprintf(b, "\t\tNewInput: func() Input { return new(%sInput) },\n\t\tNewOutput: func() Output { return new(%sOutput) },\n\t}}\n", name, name)
	}
	b.WriteString(")\n\n")
	b.WriteString("// Operations lists every operation of the model by name.\nvar Operations = map[string]*Operation{\n")
	for _, name := range ops {
		fmt.Fprintf(b, "\t%q: Op%s.Operation,\n", name, name)
	}
	b.WriteString("}\n")
	return nil
}

func (g *generator) goType(shapeName string) (string, error) {
	s := g.m.Shapes[shapeName]
	switch s.Type {
	case "structure":
		return "*" + g.typeName[shapeName], nil
	case "string":
		return "*string", nil
	case "integer":
		return "*int32", nil
	case "long":
		return "*int64", nil
	case "boolean":
		return "*bool", nil
	case "double", "float":
		return "*float64", nil
	case "timestamp":
		return "*Timestamp", nil
	case "blob":
		return "[]byte", nil
	case "list":
		t, err := g.goType(s.Member.Shape)
		if err != nil {
			return "", err
		}
		return "[]" + strings.TrimPrefix(t, "*"), nil
	case "map":
		t, err := g.goType(s.Value.Shape)
		if err != nil {
			return "", err
		}
		return "map[string]" + strings.TrimPrefix(t, "*"), nil
	}
	return "", fmt.Errorf("shape %s: unsupported type %q", shapeName, s.Type)
}

func (g *generator) shapes(b *bytes.Buffer) error {
	var body bytes.Buffer
	names := sortedKeys(g.typeName)
	sort.Slice(names, func(i, j int) bool { return g.typeName[names[i]] < g.typeName[names[j]] })
	for _, name := range names {
		s := g.m.Shapes[name]
		if s.Exception {
			continue
		}
		tn := g.typeName[name]
		if s.Union {
			fmt.Fprintf(&body, "// %s is a union: exactly one member is set.\n", tn)
		} else {
			fmt.Fprintf(&body, "// %s is the model's %s shape.\n", tn, name)
		}
		fmt.Fprintf(&body, "type %s struct {\n", tn)
		for _, mn := range s.Order {
			t, err := g.goType(s.Members[mn].Shape)
			if err != nil {
				return err
			}
			fmt.Fprintf(&body, "\t%s %s `json:\"%s,omitzero\"`\n", exported(mn), t, mn)
		}
		if cachedAnswers[name] {
			body.WriteString("\t// Encoded, when set, is what AppendJSON writes verbatim: the item's\n\t// JSON made earlier from the same values, which a page of items kept\n\t// with their records writes without encoding them again.\n\tEncoded []byte `json:\"-\"`\n")
		}
		body.WriteString("}\n\n")
		if g.outputs[name] {
			if err := g.encoder(&body, name, s); err != nil {
				return err
			}
		}
		if !g.inputs[name] {
			continue
		}
		if err := g.validator(&body, name, s); err != nil {
			return err
		}
	}
	b.WriteString("import \"strconv\"\n\n")
	if len(g.patterns) > 0 {
		b.WriteString("import \"regexp\"\n\n")
		b.WriteString("// Model patterns are not implicitly anchored (smithy semantics), and Go's\n// unanchored MatchString agrees.\nvar patterns = [...]modelPattern{\n")
		for _, p := range g.patterns {
			fmt.Fprintf(b, "\t{regexp.MustCompile(%s), %s},\n", strconv.Quote(goPattern(p)), strconv.Quote(p))
		}
		b.WriteString("}\n\n")
	}
	b.Write(body.Bytes())
	return nil
}

// cachedAnswers are the output shapes that list operations answer a page
// of, whose encodings are kept with the records they are made from: for
// them, encoding the items was most of a page's cost.
var cachedAnswers = map[string]bool{
	"WorkspaceDirectory": true,
	"WorkspaceImage":     true,
	"WorkspaceBundle":    true,
	"Workspace":          true,
	"WorkspacesIpGroup":  true,
}

// encoder writes the AppendJSON method of one response structure: the bytes
// encoding/json would write for it (members in declaration order, nil
// members omitted, map keys sorted), without reflection, which a page of
// records spends most of its encoding time on.
func (g *generator) encoder(b *bytes.Buffer, name string, s *shape) error {
	tn := g.typeName[name]
	doc := "// AppendJSON appends the JSON encoding of v to b, byte for byte what\n// encoding/json writes for it.\n"
	if cachedAnswers[name] {
		doc = "// AppendJSON appends the JSON encoding of v to b, byte for byte what\n// encoding/json writes for it, or v.Encoded when set.\n"
	}
	fmt.Fprintf(b, "%sfunc (v *%s) AppendJSON(b []byte) []byte {\n\tif v == nil {\n\t\treturn append(b, \"null\"...)\n\t}\n", doc, tn)
	if len(s.Order) == 0 {
		b.WriteString("\treturn append(b, \"{}\"...)\n}\n\n")
		return nil
	}
	if cachedAnswers[name] {
		b.WriteString("\tif v.Encoded != nil {\n\t\treturn append(b, v.Encoded...)\n\t}\n")
	}
	b.WriteString("\tsep := byte('{')\n")
	for _, mn := range s.Order {
		field := "v." + exported(mn)
		fmt.Fprintf(b, "\tif %s != nil {\n\t\tb = append(b, sep)\n\t\tsep = ','\n\t\tb = append(b, `%s:`...)\n", field, strconv.Quote(mn))
		if err := g.valueEncoder(b, s.Members[mn].Shape, field, true, 1); err != nil {
			return fmt.Errorf("%s.%s: %w", name, mn, err)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("\tif sep == '{' {\n\t\tb = append(b, '{')\n\t}\n\treturn append(b, '}')\n}\n\n")
	return nil
}

// valueEncoder writes the encoding of one value. A member (pointer is set)
// is a non-nil pointer to a scalar or structure, or a non-nil list or map;
// elements of lists and maps are values, and a nil list or map among them is
// null, as encoding/json writes it.
func (g *generator) valueEncoder(b *bytes.Buffer, shapeName, expr string, pointer bool, depth int) error {
	s := g.m.Shapes[shapeName]
	ind := strings.Repeat("\t", depth+1)
	deref := expr
	if pointer {
		deref = "*" + expr
	}
	switch s.Type {
	case "structure":
		fmt.Fprintf(b, "%sb = %s.AppendJSON(b)\n", ind, expr)
	case "string":
		fmt.Fprintf(b, "%sb = appendString(b, %s)\n", ind, deref)
	case "integer", "long":
		fmt.Fprintf(b, "%sb = strconv.AppendInt(b, int64(%s), 10)\n", ind, deref)
	case "boolean":
		fmt.Fprintf(b, "%sb = strconv.AppendBool(b, %s)\n", ind, deref)
	case "double", "float":
		fmt.Fprintf(b, "%sb = appendFloat(b, %s)\n", ind, deref)
	case "timestamp":
		fmt.Fprintf(b, "%sb = %s.appendJSON(b)\n", ind, expr)
	case "blob":
		fmt.Fprintf(b, "%sb = appendBlob(b, %s)\n", ind, expr)
	case "list", "map":
		if !pointer {
			fmt.Fprintf(b, "%sif %s == nil {\n%s\tb = append(b, \"null\"...)\n%s} else {\n", ind, expr, ind, ind)
			depth++
			ind += "\t"
		}
		i, k := fmt.Sprintf("i%d", depth), fmt.Sprintf("k%d", depth)
		if s.Type == "list" {
			fmt.Fprintf(b, "%sb = append(b, '[')\n%sfor %s := range %s {\n%s\tif %s > 0 {\n%s\t\tb = append(b, ',')\n%s\t}\n", ind, ind, i, expr, ind, i, ind, ind)
			if err := g.valueEncoder(b, s.Member.Shape, expr+"["+i+"]", false, depth+1); err != nil {
				return err
			}
			fmt.Fprintf(b, "%s}\n%sb = append(b, ']')\n", ind, ind)
		} else {
			fmt.Fprintf(b, "%sb = append(b, '{')\n%sfor %s, %s := range sortedKeys(%s) {\n%s\tif %s > 0 {\n%s\t\tb = append(b, ',')\n%s\t}\n%s\tb = appendString(b, %s)\n%s\tb = append(b, ':')\n", ind, ind, i, k, expr, ind, i, ind, ind, ind, k, ind)
			value := expr + "[" + k + "]"
			if g.m.Shapes[s.Value.Shape].Type == "structure" {
				// A map's values are not addressable.
				value = fmt.Sprintf("v%d", depth)
				fmt.Fprintf(b, "%s\t%s := %s[%s]\n", ind, value, expr, k)
			}
			if err := g.valueEncoder(b, s.Value.Shape, value, false, depth+1); err != nil {
				return err
			}
			fmt.Fprintf(b, "%s}\n%sb = append(b, '}')\n", ind, ind)
		}
		if !pointer {
			fmt.Fprintf(b, "%s}\n", ind[:len(ind)-1])
		}
	default:
		return fmt.Errorf("shape %s: no encoder for type %q", shapeName, s.Type)
	}
	return nil
}

func (g *generator) pattern(p string) (int, error) {
	if i, ok := g.patIndex[p]; ok {
		return i, nil
	}
	if _, err := regexp.Compile(goPattern(p)); err != nil {
		return 0, fmt.Errorf("pattern %q does not compile in Go: %w", p, err)
	}
	g.patIndex[p] = len(g.patterns)
	g.patterns = append(g.patterns, p)
	return g.patIndex[p], nil
}

// validator writes the validate method of one structure. Every input and every
// shape nested in one gets a validator; it costs nothing for output shapes.
func (g *generator) validator(b *bytes.Buffer, name string, s *shape) error {
	tn := g.typeName[name]
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	fmt.Fprintf(b, "func (v *%s) validate(path string, errs *ValidationErrors) {\n", tn)
	if s.Union {
		var members []string
		for _, mn := range s.Order {
			members = append(members, "v."+exported(mn)+" != nil")
		}
		fmt.Fprintf(b, "\terrs.union(path, %s)\n", strings.Join(members, ", "))
	}
	for _, mn := range s.Order {
		field := "v." + exported(mn)
		path := fmt.Sprintf("join(path, %q)", wireName(mn))
		if required[mn] {
			fmt.Fprintf(b, "\tif %s == nil {\n\t\terrs.required(%s)\n\t} else {\n", field, path)
		} else {
			fmt.Fprintf(b, "\tif %s != nil {\n", field)
		}
		if err := g.valueChecks(b, s.Members[mn].Shape, field, path, 2); err != nil {
			return fmt.Errorf("%s.%s: %w", name, mn, err)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n\n")
	if strings.HasSuffix(tn, "Input") {
		fmt.Fprintf(b, "// Validate checks every constraint the model states for %s.\nfunc (v *%s) Validate() error {\n\tvar errs ValidationErrors\n\tv.validate(\"\", &errs)\n\treturn errs.Err()\n}\n\n", tn, tn)
	}
	return nil
}

// valueChecks writes the checks of one non-nil value. Pointers to scalars are
// dereferenced; lists and maps recurse into their elements (see sized), maps
// in key order.
func (g *generator) valueChecks(b *bytes.Buffer, shapeName, expr, path string, depth int) error {
	s := g.m.Shapes[shapeName]
	ind := strings.Repeat("\t", depth)
	switch s.Type {
	case "structure":
		fmt.Fprintf(b, "%s%s.validate(%s, errs)\n", ind, expr, path)
	case "string":
		if s.Min != nil || s.Max != nil {
			fmt.Fprintf(b, "%serrs.length(%s, *%s, len([]rune(*%s)), %s, %s)\n", ind, path, expr, expr, bound(s.Min), bound(s.Max))
		}
		if s.Pattern != "" {
			i, err := g.pattern(s.Pattern)
			if err != nil {
				return err
			}
			fmt.Fprintf(b, "%serrs.pattern(%s, *%s, &patterns[%d])\n", ind, path, expr, i)
		}
		if len(s.Enum) > 0 {
			fmt.Fprintf(b, "%serrs.enum(%s, *%s, %sValues)\n", ind, path, expr, shapeName)
		}
	case "blob":
		if s.Min != nil || s.Max != nil {
			fmt.Fprintf(b, "%serrs.length(%s, \"<binary>\", len(%s), %s, %s)\n", ind, path, expr, bound(s.Min), bound(s.Max))
		}
	case "integer", "long":
		if s.Min != nil || s.Max != nil {
			fmt.Fprintf(b, "%serrs.rangeCheck(%s, int64(*%s), %s, %s, %t, %t)\n", ind, path, expr, bound(s.Min), bound(s.Max), s.Min != nil, s.Max != nil)
		}
	case "list":
		elem := g.m.Shapes[s.Member.Shape]
		elemExpr := "(&elem)"
		if elem.Type == "list" || elem.Type == "map" || elem.Type == "blob" {
			elemExpr = "elem"
		}
		var inner bytes.Buffer
		if err := g.valueChecks(&inner, s.Member.Shape, elemExpr, "member("+path+", i)", depth+2); err != nil {
			return err
		}
		loop := ""
		if inner.Len() > 0 {
			loop = fmt.Sprintf("for i, elem := range %s {\n%s}\n", expr, inner.String())
		}
		g.sized(b, ind, fmt.Sprintf("listLength(errs, %s, %s", path, expr), s, loop)
	case "map":
		var keyChecks, valueChecks bytes.Buffer
		if err := g.valueChecks(&keyChecks, s.Key.Shape, "(&key)", "join("+path+", key)", depth+2); err != nil {
			return err
		}
		if err := g.valueChecks(&valueChecks, s.Value.Shape, "(&value)", "join("+path+", key)", depth+2); err != nil {
			return err
		}
		loop := ""
		if keyChecks.Len() > 0 || valueChecks.Len() > 0 {
			// Keys in order: messages about members come out the same every time.
			loop = fmt.Sprintf("for _, key := range mapKeys(%s) {\n%s", expr, keyChecks.String())
			if valueChecks.Len() > 0 {
				loop += fmt.Sprintf("value := %s[key]\n%s", expr, valueChecks.String())
			}
			loop += "}\n"
		}
		g.sized(b, ind, fmt.Sprintf("mapLength(errs, %s, len(%s)", path, expr), s, loop)
	}
	return nil
}

// sized writes the checks of a list or map: its length when the model bounds
// it, and the loop over its members only when the length is right, so that a
// list of the wrong length is reported on its length alone (however long it
// is, the message stays small). check is the call without its bounds.
func (g *generator) sized(b *bytes.Buffer, ind, check string, s *shape, loop string) {
	switch {
	case s.Min == nil && s.Max == nil:
		b.WriteString(loop)
	case loop == "":
		fmt.Fprintf(b, "%s%s, %s, %s)\n", ind, check, bound(s.Min), bound(s.Max))
	default:
		fmt.Fprintf(b, "%sif %s, %s, %s) {\n%s%s}\n", ind, check, bound(s.Min), bound(s.Max), loop, ind)
	}
}

// bound writes a model length or range bound; -1 means none.
func bound(f *float64) string {
	if f == nil {
		return "-1"
	}
	return strconv.FormatInt(int64(*f), 10)
}

func (g *generator) enums(b *bytes.Buffer) error {
	for _, name := range sortedKeys(g.m.Shapes) {
		s := g.m.Shapes[name]
		if len(s.Enum) == 0 {
			continue
		}
		fmt.Fprintf(b, "// Values of the model's %s enum.\nconst (\n", name)
		for _, v := range s.Enum {
			fmt.Fprintf(b, "\t%s%s = %q\n", name, enumIdent(v), v)
		}
		b.WriteString(")\n\n")
		fmt.Fprintf(b, "// %sValues lists the %s enum in model order.\nvar %sValues = []string{", name, name, name)
		for i, v := range s.Enum {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "%q", v)
		}
		b.WriteString("}\n\n")
	}
	return nil
}

var bigRepeat = regexp.MustCompile(`(\[(?:\\.|[^\]\\])*\])\{(\d+),(\d+)\}`)

// goPattern rewrites what RE2 refuses but means the same: a character class
// repeated more than 1000 times becomes consecutive repeats of at most 1000.
func goPattern(p string) string {
	return bigRepeat.ReplaceAllStringFunc(p, func(m string) string {
		sub := bigRepeat.FindStringSubmatch(m)
		lo, _ := strconv.Atoi(sub[2])
		hi, _ := strconv.Atoi(sub[3])
		if hi <= 1000 {
			return m
		}
		var out strings.Builder
		for hi > 0 {
			n := min(hi, 1000)
			l := min(lo, n)
			fmt.Fprintf(&out, "%s{%d,%d}", sub[1], l, n)
			lo -= l
			hi -= n
		}
		return out.String()
	})
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9]+`)

// enumIdent turns an enum value such as "GRAPHICS_G4DN" or "Windows_11" into
// an identifier suffix: "GraphicsG4dn", "Windows11".
func enumIdent(v string) string {
	var out strings.Builder
	for _, part := range nonIdent.Split(v, -1) {
		if part == "" {
			continue
		}
		out.WriteString(strings.ToUpper(part[:1]) + strings.ToLower(part[1:]))
	}
	return out.String()
}

func (g *generator) errors(b *bytes.Buffer) error {
	for _, name := range sortedKeys(g.m.Shapes) {
		s := g.m.Shapes[name]
		if !s.Exception {
			continue
		}
		status := 400
		if s.Error != nil && s.Error.HTTPStatusCode != 0 {
			status = s.Error.HTTPStatusCode
		}
		fmt.Fprintf(b, "// %s is the model's %s error (HTTP %d).\ntype %s struct {\n", name, name, status, name)
		b.WriteString("\tMessage string `json:\"message\"`\n")
		for _, mn := range s.Order {
			if mn == "message" {
				continue
			}
			t, err := g.goType(s.Members[mn].Shape)
			if err != nil {
				return err
			}
			fmt.Fprintf(b, "\t%s %s `json:\"%s,omitzero\"`\n", exported(mn), t, mn)
		}
		b.WriteString("}\n\n")
		fmt.Fprintf(b, "func (e *%s) Error() string { return %q + \": \" + e.Message }\n", name, name)
		fmt.Fprintf(b, "// ErrorCode is the error's __type on the wire.\nfunc (e *%s) ErrorCode() string { return %q }\n", name, name)
		fmt.Fprintf(b, "// HTTPStatus is the status the error is sent with.\nfunc (e *%s) HTTPStatus() int { return %d }\n\n", name, status)
	}
	return nil
}
