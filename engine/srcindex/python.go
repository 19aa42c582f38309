package srcindex

import (
	"path"
	"regexp"
	"strings"
)

var (
	pyDef   = regexp.MustCompile(`^(?:async\s+)?def\s+([\p{L}_][\p{L}\p{N}_]*)\s*\(`)
	pyClass = regexp.MustCompile(`^class\s+([\p{L}_][\p{L}\p{N}_]*)\s*[(:]`)
)

// maxHeaderLines bounds how far a def or class header may run across lines
// before the parser gives up on it (a header that never closes).
const maxHeaderLines = 50

// ParsePython indexes one Python file with a simple line-based parser: it
// finds top-level and class-level def and class statements by indentation,
// with their signatures (joined across lines) and first docstring, and skips
// functions nested in functions and text inside triple-quoted strings.
func ParsePython(name string, src []byte) File {
	f := File{Path: name, Language: "python", Package: strings.TrimSuffix(path.Base(name), ".py")}
	lines := strings.Split(string(src), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], "\r")
	}
	type scope struct {
		indent int
		isDef  bool
		name   string
	}
	var stack []scope
	inString := ""
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if inString != "" {
			if strings.Contains(line, inString) {
				inString = ""
			}
			continue
		}
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		indent := indentOf(line)
		for len(stack) > 0 && indent <= stack[len(stack)-1].indent {
			stack = stack[:len(stack)-1]
		}
		var classes []string
		nested := false
		for _, s := range stack {
			if s.isDef {
				nested = true
			} else {
				classes = append(classes, s.name)
			}
		}
		def := pyDef.FindStringSubmatch(trimmed)
		class := pyClass.FindStringSubmatch(trimmed)
		if def == nil && class == nil {
			inString = openTriple(trimmed)
			continue
		}
		header, end, bodyFollows := pyHeader(lines, i)
		doc, next := "", end+1
		if bodyFollows {
			doc, next = pyDocstring(lines, end+1)
		}
		if def != nil {
			stack = append(stack, scope{indent, true, def[1]})
			if !nested {
				f.Functions = append(f.Functions, Func{Name: def[1], Receiver: strings.Join(classes, "."), Signature: header, Doc: doc, Line: i + 1})
			}
		} else {
			stack = append(stack, scope{indent, false, class[1]})
			if !nested {
				f.Types = append(f.Types, Type{Name: strings.Join(append(classes, class[1]), "."), Kind: "class", Doc: doc, Line: i + 1})
			}
		}
		i = next - 1
	}
	return f
}

// indentOf measures leading whitespace, a tab advancing to the next
// multiple of 8 as Python's tokenizer does.
func indentOf(line string) int {
	n := 0
	for _, c := range line {
		switch c {
		case ' ':
			n++
		case '\t':
			n = n/8*8 + 8
		default:
			return n
		}
	}
	return n
}

// pyHeader reads a def or class header starting at line i up to its colon
// (at bracket depth 0, outside strings and comments), across lines when
// brackets stay open. It returns the header with whitespace collapsed, the
// line the colon is on, and whether the body starts on the next line (the
// colon ends its line). A header that does not close within
// maxHeaderLines is cut to its first line.
func pyHeader(lines []string, i int) (header string, end int, bodyFollows bool) {
	var b strings.Builder
	depth := 0
	for j := i; j < len(lines) && j < i+maxHeaderLines; j++ {
		line := lines[j]
		quote := byte(0) // single-quoted strings end on their line
		cut := len(line)
	scan:
		for k := 0; k < len(line); k++ {
			c := line[k]
			if quote != 0 {
				if c == '\\' {
					k++
				} else if c == quote {
					quote = 0
				}
				continue
			}
			switch c {
			case '\'', '"':
				quote = c
			case '#':
				cut = k
				break scan
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				depth--
			case ':':
				if depth <= 0 {
					b.WriteString(line[:k])
					rest := strings.TrimSpace(line[k+1:])
					return collapse(b.String()), j, rest == "" || rest[0] == '#'
				}
			}
		}
		b.WriteString(line[:cut])
		b.WriteByte(' ')
	}
	return collapse(strings.TrimRight(lines[i], ":")), i, false
}

func collapse(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "( ", "(")
	s = strings.ReplaceAll(s, ", )", ")") // a trailing comma before a closing paren on its own line
	return strings.ReplaceAll(s, " )", ")")
}

// pyDocstring reads the docstring starting at the first non-blank line from
// j, if that line opens a string; it returns the docstring (dedented and
// trimmed) and the index of the first line after it.
func pyDocstring(lines []string, j int) (string, int) {
	for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
		j++
	}
	if j >= len(lines) {
		return "", j
	}
	s := strings.TrimSpace(lines[j])
	s = strings.TrimLeft(s, "rRuUbB")
	for _, q := range []string{`"""`, `'''`, `"`, `'`} {
		if !strings.HasPrefix(s, q) {
			continue
		}
		body := s[len(q):]
		if end := strings.Index(body, q); end >= 0 {
			return strings.TrimSpace(body[:end]), j + 1
		}
		if len(q) == 1 {
			return "", j // not a one-line string: no docstring
		}
		parts := []string{body}
		for k := j + 1; k < len(lines) && k < j+200; k++ {
			if end := strings.Index(lines[k], q); end >= 0 {
				parts = append(parts, lines[k][:end])
				return dedent(parts), k + 1
			}
			parts = append(parts, lines[k])
		}
		return dedent(parts), j + 1
	}
	return "", j
}

func dedent(parts []string) string {
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return strings.TrimSpace(strings.Join(parts, "\n"))
}

// openTriple returns the triple quote a line leaves open, or "".
func openTriple(line string) string {
	i := strings.Index(line, `"""`)
	j := strings.Index(line, `'''`)
	q := `"""`
	if i < 0 || j >= 0 && j < i {
		i, q = j, `'''`
	}
	if i < 0 {
		return ""
	}
	if strings.Count(line[i:], q)%2 == 1 {
		return q
	}
	return ""
}
