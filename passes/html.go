package passes

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/omex-dev/omex/omexerr"
)

// The --dump-html page, in the spirit of the Go compiler's GOSSAFUNC
// ssa.html: one column per stage (the input, then the IR after each pass
// that ran), side by side, with the pass names as column headers and the
// lines a pass changed highlighted against the column before it. The page is
// one self-contained file (inline CSS and script, nothing fetched) so it can
// be mailed or attached to a bug. Its script lets a reader collapse columns
// and click a %value or @weight to highlight it in every column.
//
// The script reports its own failures into the page: any error or
// console.error appends an element with class "js-error" to #js-errors, and
// the body gets data-ready="1" only when setup ran to the end. The headless
// Chromium test (html_test.go) checks both in the rendered DOM.

type htmlPart struct {
	Text  string
	Value string // the %value or @name when this part is one, for highlighting
}

type htmlLine struct {
	Changed bool
	Parts   []htmlPart
}

type htmlColumn struct {
	Num         string
	Name        string
	Description string
	Elapsed     string
	Summary     string // "+3 −1", "no change", "12 lines"
	Unchanged   bool
	Broken      string
	Lines       []htmlLine
}

type htmlPage struct {
	Module  string
	Columns []htmlColumn
}

// writeHTMLFile writes the page for the stages to path.
func writeHTMLFile(path, module string, stages []stage) error {
	f, err := os.Create(path)
	if err != nil {
		return omexerr.Resourcef("resource.io", "cannot create the HTML dump").WithFile(path).WithFlag("--dump-html").Wrap(err)
	}
	w := bufio.NewWriter(f)
	err = writeHTML(w, module, stages)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return omexerr.Resourcef("resource.io", "cannot write the HTML dump").WithFile(path).WithFlag("--dump-html").Wrap(err)
	}
	return nil
}

// writeHTML renders the page. Stage numbers are printed with the same width
// as the --dump-dir file names so a column and its file are easy to match.
func writeHTML(w io.Writer, module string, stages []stage) error {
	page := htmlPage{Module: module}
	width := 2
	for _, s := range stages {
		width = max(width, len(fmt.Sprint(s.Index)))
	}
	var prev []string
	for i, s := range stages {
		lines := splitLines(s.Text)
		col := htmlColumn{
			Num:         fmt.Sprintf("%0*d", width, s.Index),
			Name:        s.Name,
			Description: s.Description,
			Broken:      s.Broken,
		}
		if i > 0 {
			col.Elapsed = fmtDur(s.Elapsed)
		}
		var changed []bool
		if i == 0 {
			changed = make([]bool, len(lines))
			col.Summary = fmt.Sprintf("%d lines", len(lines))
		} else {
			var removed int
			changed, removed = diffLines(prev, lines)
			added := 0
			for _, c := range changed {
				if c {
					added++
				}
			}
			if added == 0 && removed == 0 {
				col.Summary, col.Unchanged = "no change", true
			} else {
				col.Summary = fmt.Sprintf("+%d −%d", added, removed)
			}
		}
		for j, l := range lines {
			col.Lines = append(col.Lines, htmlLine{Changed: changed[j], Parts: splitValues(l)})
		}
		page.Columns = append(page.Columns, col)
		prev = lines
	}
	return htmlTemplate.Execute(w, page)
}

func splitLines(text string) []string {
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// valueRE matches the names a reader wants to follow across stages: SSA
// values (%x0, %q.0) and module-level references (@blk.0.attn_q.weight).
var valueRE = regexp.MustCompile(`[%@][A-Za-z0-9_.\-]*[A-Za-z0-9_]`)

// splitValues cuts a line into plain text and %value/@name parts.
func splitValues(line string) []htmlPart {
	var parts []htmlPart
	last := 0
	for _, m := range valueRE.FindAllStringIndex(line, -1) {
		if m[0] > last {
			parts = append(parts, htmlPart{Text: line[last:m[0]]})
		}
		parts = append(parts, htmlPart{Text: line[m[0]:m[1]], Value: line[m[0]:m[1]]})
		last = m[1]
	}
	if last < len(line) {
		parts = append(parts, htmlPart{Text: line[last:]})
	}
	return parts
}

// maxDiffCells bounds the longest-common-subsequence table (4 bytes a cell)
// so a huge module cannot make the page cost gigabytes to build.
const maxDiffCells = 1 << 22

// diffLines marks the lines of cur that a longest common subsequence with
// prev does not match (what the pass added or rewrote) and counts the lines
// of prev left unmatched (what it removed). The common head and tail are
// matched first, which is most of the module for a pass that changes one
// spot. When the rest is too large for the table, a line counts as changed
// when it occurs more often in cur than in prev: cruder, but still right for
// lines that are simply new.
func diffLines(prev, cur []string) (changed []bool, removed int) {
	return diffLinesLimit(prev, cur, maxDiffCells)
}

// diffLinesLimit is diffLines with the table bound as a parameter, so tests
// can reach the fallback.
func diffLinesLimit(prev, cur []string, limit int) (changed []bool, removed int) {
	changed = make([]bool, len(cur))
	head := 0
	for head < len(prev) && head < len(cur) && prev[head] == cur[head] {
		head++
	}
	tail := 0
	for tail < len(prev)-head && tail < len(cur)-head && prev[len(prev)-1-tail] == cur[len(cur)-1-tail] {
		tail++
	}
	a, b := prev[head:len(prev)-tail], cur[head:len(cur)-tail]
	mark := changed[head : len(cur)-tail]
	if len(a) == 0 || len(b) == 0 {
		for i := range mark {
			mark[i] = true
		}
		return changed, len(a)
	}
	if len(a)*len(b) > limit {
		count := map[string]int{}
		for _, l := range a {
			count[l]++
		}
		matched := 0
		for i, l := range b {
			if count[l] > 0 {
				count[l]--
				matched++
			} else {
				mark[i] = true
			}
		}
		return changed, len(a) - matched
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:], stored row by row.
	n, m := len(a), len(b)
	lcs := make([]int32, (n+1)*(m+1))
	at := func(i, j int) int32 { return lcs[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			v := max(at(i+1, j), at(i, j+1))
			if a[i] == b[j] {
				v = at(i+1, j+1) + 1
			}
			lcs[i*(m+1)+j] = v
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			i, j = i+1, j+1
		case at(i+1, j) >= at(i, j+1):
			removed++
			i++
		default:
			mark[j] = true
			j++
		}
	}
	removed += n - i
	for ; j < m; j++ {
		mark[j] = true
	}
	return changed, removed
}

var htmlTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>OMEX passes: {{.Module}}</title>
<script>
(function () {
  "use strict";
  // Report every script error into the page itself, so a headless browser's
  // DOM dump shows it (see html_test.go).
  function report(msg) {
    var box = document.getElementById("js-errors");
    if (!box) {
      box = document.createElement("div");
      box.id = "js-errors";
      (document.body || document.documentElement).appendChild(box);
    }
    var e = document.createElement("div");
    e.className = "js-error";
    e.textContent = msg;
    box.appendChild(e);
  }
  window.addEventListener("error", function (ev) {
    var what = ev.message || ("failed to load " + ((ev.target && (ev.target.src || ev.target.href)) || "a resource"));
    report("error: " + what);
  }, true);
  window.addEventListener("unhandledrejection", function (ev) { report("unhandled rejection: " + ev.reason); });
  var consoleError = console.error;
  console.error = function () {
    report("console.error: " + Array.prototype.join.call(arguments, " "));
    return consoleError.apply(console, arguments);
  };
})();
</script>
<style>
body { font-family: sans-serif; margin: 0; color: #222; background: #fff; }
header { padding: 6px 10px; border-bottom: 1px solid #ccc; }
header h1 { font-size: 16px; margin: 0 0 4px 0; }
header p { margin: 2px 0; font-size: 12px; color: #555; }
button { font: inherit; }
#columns { display: flex; align-items: flex-start; overflow-x: auto; }
.col { flex: 0 0 auto; border-right: 1px solid #ccc; min-width: 12em; max-width: 70em; }
.col .head { position: sticky; top: 0; display: block; width: 100%; text-align: left; background: #eef; border: 0; border-bottom: 1px solid #ccc; padding: 4px 6px; cursor: pointer; font-size: 13px; }
.col .head .pass-name { font-weight: bold; }
.col .head .num, .col .head .summary, .col .head .elapsed { color: #555; font-size: 11px; }
.col.unchanged .head { background: #f4f4f4; }
.col.broken .head { background: #fcc; }
.col .broken-msg { color: #900; font-size: 12px; padding: 4px 6px; white-space: pre-wrap; }
.col pre { margin: 0; padding: 4px 6px; font-size: 12px; overflow-x: auto; }
.col pre .line { display: block; min-height: 1.2em; }
.col pre .changed { background: #dfd; }
.col.collapsed { min-width: 0; }
.col.collapsed pre, .col.collapsed .broken-msg { display: none; }
.col.collapsed .head { writing-mode: vertical-rl; width: 2em; min-height: 14em; }
.v { cursor: pointer; }
.hl0 { background: #ffeb3b; } .hl1 { background: #80deea; } .hl2 { background: #f48fb1; }
.hl3 { background: #a5d6a7; } .hl4 { background: #ffcc80; } .hl5 { background: #b39ddb; }
#js-errors { color: #900; }
</style>
</head>
<body>
<header>
<h1>module {{.Module}}: IR after each pass</h1>
<p>Green lines are new or rewritten since the column to the left. Passes that changed nothing start collapsed. Click a header to collapse or expand its column; click a %value or @name to highlight it in every column (click again to clear).</p>
<p><button type="button" id="expand-all">expand all</button> <button type="button" id="collapse-unchanged">collapse passes that changed nothing</button> <button type="button" id="clear-highlights">clear highlights</button></p>
</header>
<main id="columns">
{{- range .Columns}}
<section class="col{{if .Unchanged}} unchanged{{end}}{{if .Broken}} broken{{end}}" data-pass="{{.Name}}" data-unchanged="{{if .Unchanged}}1{{else}}0{{end}}">
<button type="button" class="head" aria-expanded="true" title="{{.Description}}"><span class="num">{{.Num}}</span> <span class="pass-name">{{.Name}}</span> <span class="summary">{{.Summary}}</span>{{if .Elapsed}} <span class="elapsed">{{.Elapsed}}</span>{{end}}</button>
{{- if .Broken}}
<div class="broken-msg">the verifier rejects this IR: {{.Broken}}</div>
{{- end}}
<pre>{{range .Lines}}<span class="line{{if .Changed}} changed{{end}}">{{range .Parts}}{{if .Value}}<span class="v" data-v="{{.Value}}">{{.Text}}</span>{{else}}{{.Text}}{{end}}{{end}}</span>{{end}}</pre>
</section>
{{- end}}
</main>
<script>
(function () {
  "use strict";
  var cols = Array.prototype.slice.call(document.querySelectorAll(".col"));
  function setCollapsed(col, on) {
    col.classList.toggle("collapsed", on);
    col.querySelector(".head").setAttribute("aria-expanded", on ? "false" : "true");
  }
  cols.forEach(function (col) {
    col.querySelector(".head").addEventListener("click", function () {
      setCollapsed(col, !col.classList.contains("collapsed"));
    });
  });
  document.getElementById("expand-all").addEventListener("click", function () {
    cols.forEach(function (col) { setCollapsed(col, false); });
  });
  function collapseUnchanged() {
    cols.forEach(function (col) { setCollapsed(col, col.getAttribute("data-unchanged") === "1"); });
  }
  document.getElementById("collapse-unchanged").addEventListener("click", collapseUnchanged);
  // Passes that changed nothing start collapsed: the columns worth reading
  // are the ones that did something.
  collapseUnchanged();

  // Highlighting: each clicked name gets the next colour; names are compared
  // as strings rather than through a CSS selector, which would need escaping
  // for the '%', '@' and '.' in them.
  var colours = ["hl0", "hl1", "hl2", "hl3", "hl4", "hl5"];
  var next = 0;
  var active = {};
  var values = Array.prototype.slice.call(document.querySelectorAll(".v"));
  function paint(name, colour, on) {
    values.forEach(function (el) {
      if (el.getAttribute("data-v") === name) { el.classList.toggle(colour, on); }
    });
  }
  document.getElementById("columns").addEventListener("click", function (ev) {
    var el = ev.target;
    if (!el || !el.classList || !el.classList.contains("v")) { return; }
    var name = el.getAttribute("data-v");
    if (Object.prototype.hasOwnProperty.call(active, name)) {
      paint(name, active[name], false);
      delete active[name];
    } else {
      active[name] = colours[next % colours.length];
      next++;
      paint(name, active[name], true);
    }
  });
  document.getElementById("clear-highlights").addEventListener("click", function () {
    Object.keys(active).forEach(function (name) { paint(name, active[name], false); });
    active = {};
  });
  document.body.setAttribute("data-ready", "1");
})();
</script>
</body>
</html>
`))
