package generate

import (
	"io"
	"strings"
)

// stopWriter streams generated text while watching for stop sequences. It
// holds back the shortest tail that could still grow into a stop sequence,
// so nothing of a stop sequence is ever printed.
type stopWriter struct {
	out     io.Writer
	stops   []string
	pending string          // generated text not yet written
	all     strings.Builder // generated text written (the result's Text)
}

func newStopWriter(out io.Writer, stops []string) *stopWriter {
	var s []string
	for _, x := range stops {
		if x != "" {
			s = append(s, x)
		}
	}
	return &stopWriter{out: out, stops: s}
}

// echo writes prompt text, which is never checked for stop sequences.
func (w *stopWriter) echo(s string) error {
	if s == "" {
		return nil
	}
	_, err := io.WriteString(w.out, s)
	return err
}

// write adds generated text; it reports true when a stop sequence appeared,
// after writing the text before it.
func (w *stopWriter) write(s string) (bool, error) {
	w.pending += s
	cut := -1
	for _, stop := range w.stops {
		if i := strings.Index(w.pending, stop); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut >= 0 {
		w.pending = w.pending[:cut]
		return true, w.flush()
	}
	keep := 0
	for _, stop := range w.stops {
		for k := min(len(stop)-1, len(w.pending)); k > keep; k-- {
			if strings.HasSuffix(w.pending, stop[:k]) {
				keep = k
				break
			}
		}
	}
	emit := w.pending[:len(w.pending)-keep]
	w.pending = w.pending[len(w.pending)-keep:]
	return false, w.emit(emit)
}

// flush writes whatever is held back.
func (w *stopWriter) flush() error {
	s := w.pending
	w.pending = ""
	return w.emit(s)
}

func (w *stopWriter) emit(s string) error {
	if s == "" {
		return nil
	}
	w.all.WriteString(s)
	_, err := io.WriteString(w.out, s)
	return err
}

func (w *stopWriter) generated() string { return w.all.String() }
