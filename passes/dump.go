package passes

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/omex-dev/omex/omexerr"
)

// stage is the IR at one point of the pipeline: the input, or the module
// right after a pass.
type stage struct {
	Index       int // 0 for the input, else the pass's 1-based position in the pipeline
	Name        string
	Description string
	Text        string        // ir.Print of the module
	Elapsed     time.Duration // the pass's wall time
	Broken      string        // the verifier's complaint when the pass broke the IR
}

// dumper writes --dump-dir: one file per stage, named NN-<pass>.ir, where NN
// is the pass's position in the pipeline table (00 is the input). Numbering
// by table position rather than by run order keeps a file's name meaning the
// same pass whatever was disabled, so dumps of two runs diff file by file.
type dumper struct {
	dir   string
	width int // digits of NN
}

// newDumper prepares dir (creating it) and removes the stage files an
// earlier run of this pipeline left there, so a pass disabled now does not
// leave a stale file that looks current. Other files are left alone.
func newDumper(dir string, pipeline []Pass) (*dumper, error) {
	d := &dumper{dir: dir, width: max(2, len(fmt.Sprint(len(pipeline))))}
	if dir == "" {
		return d, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, omexerr.Resourcef("resource.io", "cannot create the dump directory").WithFile(dir).WithFlag("--dump-dir").Wrap(err)
	}
	stale := []string{d.path(0, "input")}
	for i, p := range pipeline {
		stale = append(stale, d.path(i+1, p.Name))
	}
	for _, f := range stale {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return nil, omexerr.Resourcef("resource.io", "cannot remove an old dump").WithFile(f).WithFlag("--dump-dir").Wrap(err)
		}
	}
	return d, nil
}

func (d *dumper) enabled() bool { return d.dir != "" }

// path is the file a stage is dumped to; "" without --dump-dir.
func (d *dumper) path(index int, name string) string {
	if d.dir == "" {
		return ""
	}
	return filepath.Join(d.dir, fmt.Sprintf("%0*d-%s.ir", d.width, index, name))
}

func (d *dumper) write(s stage) error {
	if d.dir == "" {
		return nil
	}
	p := d.path(s.Index, s.Name)
	if err := os.WriteFile(p, []byte(s.Text), 0o644); err != nil {
		return omexerr.Resourcef("resource.io", "cannot write a dump").WithFile(p).WithFlag("--dump-dir").Wrap(err)
	}
	return nil
}

// printStage writes the IR for --print-before/--print-after between two
// marker lines naming the pass, so a reader (or a script) can cut the output
// into stages.
func printStage(w io.Writer, when, pass, text string) {
	fmt.Fprintf(w, "// ---- IR %s %s ----\n", when, pass)
	io.WriteString(w, text)
	if !strings.HasSuffix(text, "\n") {
		io.WriteString(w, "\n")
	}
	fmt.Fprintf(w, "// ---- end of IR %s %s ----\n", when, pass)
}
