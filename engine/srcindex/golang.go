package srcindex

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"strings"
)

// ParseGo indexes one Go file. A file that does not parse is returned with
// its error and no declarations.
func ParseGo(name string, src []byte) File {
	f := File{Path: name, Language: "go"}
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		f.Error = firstLine(err.Error())
		return f
	}
	f.Package = af.Name.Name
	for _, d := range af.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			fn := Func{Name: d.Name.Name, Doc: strings.TrimSpace(d.Doc.Text()), Line: fset.Position(d.Pos()).Line}
			if d.Recv != nil && len(d.Recv.List) > 0 {
				fn.Receiver = nodeString(fset, d.Recv.List[0].Type)
			}
			head := *d
			head.Doc, head.Body = nil, nil
			fn.Signature = nodeString(fset, &head)
			f.Functions = append(f.Functions, fn)
		case *ast.GenDecl:
			if d.Tok != token.TYPE {
				continue
			}
			for _, s := range d.Specs {
				ts := s.(*ast.TypeSpec)
				doc := ts.Doc.Text()
				if doc == "" && d.Lparen == token.NoPos {
					doc = d.Doc.Text()
				}
				f.Types = append(f.Types, Type{Name: ts.Name.Name, Kind: typeKind(fset, ts), Doc: strings.TrimSpace(doc), Line: fset.Position(ts.Pos()).Line})
			}
		}
	}
	return f
}

// typeKind says what a type declaration is: struct, interface, func, map,
// slice, array, chan, alias, or the underlying type's name (int, string).
func typeKind(fset *token.FileSet, ts *ast.TypeSpec) string {
	if ts.Assign.IsValid() {
		return "alias"
	}
	switch t := ts.Type.(type) {
	case *ast.StructType:
		return "struct"
	case *ast.InterfaceType:
		return "interface"
	case *ast.FuncType:
		return "func"
	case *ast.MapType:
		return "map"
	case *ast.ChanType:
		return "chan"
	case *ast.ArrayType:
		if t.Len == nil {
			return "slice"
		}
		return "array"
	}
	return nodeString(fset, ts.Type)
}

func nodeString(fset *token.FileSet, n any) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, fset, n); err != nil {
		return ""
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
