package passes

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromiumPath is where Debian's chromium package puts the browser; .ci/run
// installs it.
const chromiumPath = "/usr/bin/chromium"

// renderInChromium loads the page in headless Chromium and returns the DOM
// after its scripts ran, and the console messages Chromium logged.
func renderInChromium(t *testing.T, page string) (dom string, console []string) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s not found: the HTML page is not loaded in a browser (install Debian's chromium package; .ci/run does)", chromiumPath)
	}
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0",
		"--dump-dom", "file://"+abs)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	// With --enable-logging=stderr Chromium logs every console message of
	// the page, whatever its level, as INFO:CONSOLE. The page logs nothing
	// when all is well, so any such line is a problem.
	for _, l := range strings.Split(errb.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return out.String(), console
}

// htmlForTest runs the real pipeline, then three test passes (so the page
// always has changed and unchanged columns), on a one-layer Llama module
// with --dump-html, and returns the page and the stage names it must show.
func htmlForTest(t *testing.T) (path string, stageNames []string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "llama-1layer.ir"))
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "passes.html")
	pl := append(Pipeline(), renameValues, dropDead, noChange)
	mg, err := New(pl, Options{DumpHTML: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mg.Run(context.Background(), parseTest(t, string(src))); err != nil {
		t.Fatal(err)
	}
	stageNames = []string{"input"}
	for _, p := range pl {
		stageNames = append(stageNames, p.Name)
	}
	return path, stageNames
}

var (
	errorMarkerRE = regexp.MustCompile(`class="js-error"[^>]*>([^<]*)<`)
	passHeaderRE  = regexp.MustCompile(`<button[^>]*class="head"[^>]*>.*?<span class="pass-name">([^<]*)</span>`)
)

// TestHTMLInChromium is the acceptance test of --dump-html: the page of the
// real pipeline loads in a real browser without console messages or script
// errors, its script ran to the end, and every stage's pass name is a
// column header in the rendered DOM, in pipeline order.
func TestHTMLInChromium(t *testing.T) {
	t.Run("page", func(t *testing.T) {
		t.Parallel()
		path, want := htmlForTest(t)
		dom, console := renderInChromium(t, path)
		if len(console) > 0 {
			t.Errorf("console messages while loading the page:\n%s", strings.Join(console, "\n"))
		}
		for _, m := range errorMarkerRE.FindAllStringSubmatch(dom, -1) {
			t.Errorf("script error reported in the page: %s", m[1])
		}
		if !regexp.MustCompile(`<body[^>]*data-ready="1"`).MatchString(dom) {
			t.Errorf("the page's script did not run to the end (no data-ready on body)")
		}
		var got []string
		for _, m := range passHeaderRE.FindAllStringSubmatch(dom, -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("column headers in the DOM: %q, want %q", got, want)
		}
		if !strings.Contains(dom, `class="line changed"`) {
			t.Errorf("no changed line is highlighted")
		}
	})
	// The checks above must be able to fail: a page with a broken script
	// must be caught by both the in-page marker and the console log.
	t.Run("detects-errors", func(t *testing.T) {
		t.Parallel()
		path, _ := htmlForTest(t)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		broken := strings.Replace(string(b), "</body>", "<script>noSuchFunction();</script></body>", 1)
		if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		dom, console := renderInChromium(t, path)
		if !errorMarkerRE.MatchString(dom) {
			t.Errorf("the in-page error marker did not catch a script error")
		}
		if len(console) == 0 {
			t.Errorf("the console log did not show a script error")
		}
	})
}

// TestHTMLSelfContained checks that the page fetches nothing and escapes the
// IR text.
func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	stages := []stage{
		{Index: 0, Name: "input", Text: "a <b> & \"c\"\n%x = y\n"},
		{Index: 1, Name: "p", Text: "a <b> & \"c\"\n%x = z\n"},
	}
	if err := writeHTML(&b, "m<1>", stages); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"http://", "https://", "src=", "href=", "url(", "@import", "<link"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must not fetch anything", bad)
		}
	}
	if strings.Contains(page, "<b>") || !strings.Contains(page, "&lt;b&gt;") {
		t.Errorf("IR text is not escaped")
	}
	if !strings.Contains(page, `<span class="line changed"><span class="v" data-v="%x">%x</span> = z</span>`) {
		t.Errorf("the changed line is not marked, or %%x is not a value span:\n%s", page)
	}
	if !strings.Contains(page, "&#43;1 −1") { // html/template writes + as &#43;
		t.Errorf("column summary missing:\n%s", page)
	}
}

func TestDiffLines(t *testing.T) {
	split := func(s string) []string { return strings.Fields(s) }
	cases := []struct {
		prev, cur   string
		changed     string // one char per line of cur: x changed, . same
		removed     int
		fallbackToo bool // the cheap fallback gives the same answer
	}{
		{"a b c", "a b c", "...", 0, true},
		{"a b c", "a x c", ".x.", 1, true},
		{"a b c", "a c", "..", 1, true},
		{"a b c", "a b y c", "..x.", 0, true},
		{"", "a b", "xx", 0, true},
		{"a b", "", "", 2, true},
		{"a b c d", "d c b a", ".xxx", 3, false}, // order matters to the LCS, not to counting
		{"x a x b x", "a x b", "...", 2, true},
	}
	for _, c := range cases {
		for _, limit := range []int{maxDiffCells, 0} {
			if limit == 0 && !c.fallbackToo {
				continue
			}
			got, removed := diffLinesLimit(split(c.prev), split(c.cur), limit)
			var s strings.Builder
			for _, ch := range got {
				if ch {
					s.WriteByte('x')
				} else {
					s.WriteByte('.')
				}
			}
			if s.String() != c.changed || removed != c.removed {
				t.Errorf("diff(%q, %q) limit %d = %s -%d, want %s -%d", c.prev, c.cur, limit, s.String(), removed, c.changed, c.removed)
			}
		}
	}
}
