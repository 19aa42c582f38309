package format

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// Writer builds an OMEX package in a hidden temporary directory beside its
// target and moves it into place on Commit. Use it from one goroutine.
type Writer struct {
	dir, tmp  string
	overwrite bool

	files  map[string]*weightFile // by name inside weights/
	cur    *weightFile            // the one weight file kept open
	index  []IndexEntry
	names  map[string]bool
	used   map[tensor.DType]bool
	params int64

	meta  *Metadata
	graph *Graph
	tok   *Tokenizer
	agent *Agent

	sums map[string]ManifestEntry // every file written so far, by path
	err  error                    // sticky: an I/O failure broke the writer
	done bool                     // committed or aborted
}

// weightFile is one weights/*.bin being appended to. The hash runs over
// every byte as it is written, so Commit never re-reads the file.
type weightFile struct {
	rel  string
	f    *os.File // nil while closed
	h    hash.Hash
	size int64
}

// Option changes how Create behaves.
type Option func(*Writer)

// Overwrite lets Commit replace an existing package at the target. It only
// replaces a directory that looks like an OMEX package (it holds
// manifest.json or metadata.json) or is empty, never anything else.
func Overwrite() Option { return func(w *Writer) { w.overwrite = true } }

// Create starts a package that Commit will place at dir. The work happens
// in a new hidden directory in dir's parent (".NAME.omex-tmp-*"). It fails
// with an InputError when dir exists and Overwrite was not given.
func Create(dir string, opts ...Option) (*Writer, error) {
	if dir == "" {
		return nil, omexerr.Inputf("input.bad_path", "empty package path")
	}
	if b := filepath.Base(filepath.Clean(dir)); b == "." || b == ".." || b == string(filepath.Separator) {
		return nil, omexerr.Inputf("input.bad_path", "package path %q does not name a directory to create", dir)
	}
	w := &Writer{
		dir:   filepath.Clean(dir),
		files: map[string]*weightFile{},
		names: map[string]bool{},
		used:  map[tensor.DType]bool{},
		sums:  map[string]ManifestEntry{},
	}
	for _, o := range opts {
		o(w)
	}
	if err := w.checkTarget(); err != nil {
		return nil, err
	}
	parent, base := filepath.Dir(w.dir), filepath.Base(w.dir)
	tmp, err := os.MkdirTemp(parent, "."+base+".omex-tmp-*")
	if err != nil {
		return nil, ioError("cannot create temporary directory", parent, err)
	}
	w.tmp = tmp
	for _, d := range []string{WeightsDir, TokenizerDir, AgentsDir, PreprocessorsDir, PostprocessDir, ExtensionsDir} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			os.RemoveAll(tmp)
			return nil, ioError("cannot create directory", d, err)
		}
	}
	return w, nil
}

// checkTarget refuses a target that exists unless overwriting is allowed
// and the target is a package (or empty directory).
func (w *Writer) checkTarget() *omexerr.Error {
	st, err := os.Lstat(w.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return ioError("cannot inspect target", w.dir, err)
	}
	if !w.overwrite {
		return omexerr.Inputf("input.exists", "%s already exists (use the overwrite option to replace it)", w.dir).WithFile(w.dir)
	}
	if !st.IsDir() {
		return omexerr.Inputf("input.exists", "%s exists and is not a directory; refusing to replace it", w.dir).WithFile(w.dir)
	}
	ents, err := os.ReadDir(w.dir)
	if err != nil {
		return ioError("cannot read target", w.dir, err)
	}
	for _, e := range ents {
		if e.Name() == ManifestFile || e.Name() == MetadataFile {
			return nil
		}
	}
	if len(ents) > 0 {
		return omexerr.Inputf("input.exists", "%s exists and is not an OMEX package; refusing to replace it", w.dir).WithFile(w.dir)
	}
	return nil
}

// ioError classifies a failed file operation as a ResourceError, with a
// distinct code for a full disk.
func ioError(what, path string, err error) *omexerr.Error {
	code := "resource.io"
	if errors.Is(err, syscall.ENOSPC) {
		code = "resource.disk_full"
	}
	return omexerr.Resourcef(code, "%s", what).WithFile(path).Wrap(err)
}

// usable returns the error that stops the writer from accepting work.
func (w *Writer) usable() error {
	if w.done {
		return omexerr.Inputf("input.writer_closed", "package writer already committed or aborted")
	}
	return w.err
}

// fail records an I/O failure: the writer is broken and must be aborted.
func (w *Writer) fail(e *omexerr.Error) error {
	w.err = e
	return e
}

// WriteTensor appends t as one record to the weight file of layer (a block
// number, EmbeddingLayer or HeadLayer) and records its index entry. A bad
// tensor is an InputError and leaves the writer usable; an I/O failure is a
// ResourceError and leaves it broken (call Abort).
func (w *Writer) WriteTensor(t *tensor.Tensor, layer int) error {
	if err := w.usable(); err != nil {
		return err
	}
	if e := checkTensor(t, layer); e != nil {
		return e
	}
	if w.names[t.Name] {
		return omexerr.Inputf("input.duplicate_tensor", "tensor written twice").WithTensor(t.Name)
	}
	wf, e := w.open(WeightFileName(layer))
	if e != nil {
		return w.fail(e)
	}
	h := RecordHeader{Layer: layer, DType: t.DType, Shape: slices.Clone(t.Shape)}
	recOff := alignUp(wf.size)
	pad := int(recOff - wf.size)
	buf := make([]byte, pad, pad+int(h.DataOffset(recOff)-recOff))
	buf = appendRecordPrefix(buf, &h, t.Scales, recOff)
	if e := wf.write(buf); e != nil {
		return w.fail(e)
	}
	if e := wf.write(t.Data); e != nil {
		return w.fail(e)
	}
	w.index = append(w.index, newIndexEntry(t.Name, &h, recOff))
	w.names[t.Name] = true
	w.used[t.DType] = true
	w.params += h.Elements()
	return nil
}

// checkTensor validates a tensor and layer before anything is written.
func checkTensor(t *tensor.Tensor, layer int) *omexerr.Error {
	if t == nil {
		return omexerr.Inputf("input.bad_tensor", "nil tensor")
	}
	bad := func(format string, args ...any) *omexerr.Error {
		return omexerr.Inputf("input.bad_tensor", format, args...).WithTensor(t.Name)
	}
	if t.Name == "" || !utf8.ValidString(t.Name) || len(t.Name) > 1024 {
		return bad("tensor name must be 1..1024 bytes of UTF-8")
	}
	if !validLayer(layer) {
		return bad("layer %d is not a block layer 0..%d, EmbeddingLayer or HeadLayer", layer, MaxLayer)
	}
	if why := checkShape(t.DType, t.Shape); why != "" {
		return bad("%s %v: %s", t.DType, t.Shape, why)
	}
	n := shapeElements(t.Shape)
	if int64(len(t.Data)) != t.DType.DataBytes64(n) {
		return bad("%d data bytes, %s %v needs %d", len(t.Data), t.DType, t.Shape, t.DType.DataBytes64(n))
	}
	want := int64(0)
	if t.DType.Quantized() {
		want = n / tensor.BlockSize
	}
	if int64(len(t.Scales)) != want {
		return bad("%d scales, %s %v needs %d", len(t.Scales), t.DType, t.Shape, want)
	}
	return nil
}

// open makes name the current weight file, closing (after fsync) the one
// that was current, so at most one weight file is open at a time.
func (w *Writer) open(name string) (*weightFile, *omexerr.Error) {
	wf := w.files[name]
	if wf != nil && wf == w.cur {
		return wf, nil
	}
	if e := w.closeCurrent(); e != nil {
		return nil, e
	}
	rel := WeightsDir + "/" + name
	if wf == nil {
		wf = &weightFile{rel: rel, h: sha256.New()}
		w.files[name] = wf
	}
	f, err := os.OpenFile(filepath.Join(w.tmp, filepath.FromSlash(rel)), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, ioError("cannot open weight file", rel, err)
	}
	wf.f = f
	w.cur = wf
	return wf, nil
}

// closeCurrent fsyncs and closes the current weight file, if any.
func (w *Writer) closeCurrent() *omexerr.Error {
	wf := w.cur
	if wf == nil {
		return nil
	}
	w.cur = nil
	err := wf.f.Sync()
	if cerr := wf.f.Close(); err == nil {
		err = cerr
	}
	wf.f = nil
	if err != nil {
		return ioError("cannot flush weight file", wf.rel, err)
	}
	return nil
}

// write appends b to the file and the running hash.
func (wf *weightFile) write(b []byte) *omexerr.Error {
	n, err := wf.f.Write(b)
	wf.h.Write(b[:n])
	wf.size += int64(n)
	if err != nil {
		return ioError("cannot write weight file", wf.rel, err)
	}
	return nil
}

// SetMetadata sets metadata.json. Commit fills omex_version, creation_date
// (now, UTC), parameters (the tensors' element count) and quantization
// (from the dtypes written) when they are left zero.
func (w *Writer) SetMetadata(m Metadata) error {
	if err := w.usable(); err != nil {
		return err
	}
	m.HardwareTargets = nonNil(m.HardwareTargets)
	if m.OmexVersion == "" {
		m.OmexVersion = Version
	}
	if e := m.validate(); e != nil {
		return asInput(e, MetadataFile)
	}
	w.meta = &m
	return nil
}

// SetGraph sets graph.json. Commit checks that every weight its nodes list
// was written with the stated dtype and shape.
func (w *Writer) SetGraph(g Graph) error {
	if err := w.usable(); err != nil {
		return err
	}
	// Clone what is normalized below so the caller's graph is not changed.
	g.Nodes, g.EntryPoints = slices.Clone(g.Nodes), slices.Clone(g.EntryPoints)
	for i := range g.Nodes {
		n := &g.Nodes[i]
		n.Inputs, n.Outputs, n.Weights = nonNil(n.Inputs), nonNil(n.Outputs), nonNil(n.Weights)
	}
	g.Edges = nonNil(g.Edges)
	for i := range g.EntryPoints {
		g.EntryPoints[i].Inputs = nonNil(g.EntryPoints[i].Inputs)
		g.EntryPoints[i].Outputs = nonNil(g.EntryPoints[i].Outputs)
	}
	if e := g.validate(); e != nil {
		return asInput(e, GraphFile)
	}
	w.graph = &g
	return nil
}

// SetTokenizer sets the tokenizer files. Config.VocabSize (when zero) and
// Config.Files are filled from the slices present.
func (w *Writer) SetTokenizer(t Tokenizer) error {
	if err := w.usable(); err != nil {
		return err
	}
	t.fillFiles()
	if e := t.validate(); e != nil {
		return asInput(e, "")
	}
	w.tok = &t
	return nil
}

// SetAgent sets agents/default_agent.json. Without it Commit writes
// DefaultAgent with the graph's context length (2048 when none is stated).
func (w *Writer) SetAgent(a Agent) error {
	if err := w.usable(); err != nil {
		return err
	}
	a.Capabilities, a.Tools = nonNil(a.Capabilities), nonNil(a.Tools)
	if e := a.validate(); e != nil {
		return asInput(e, AgentFile)
	}
	w.agent = &a
	return nil
}

// nonNil turns a nil slice into an empty one so the JSON says [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// asInput turns a validation failure of the caller's data into an
// InputError: the package would be bad, but the fault is the argument.
func asInput(e *omexerr.Error, file string) *omexerr.Error {
	if file == "" {
		file = e.File
	}
	return omexerr.Inputf("input.bad_package", "%s", e.Msg).WithFile(file).WithTensor(e.Tensor).Wrap(e)
}

// Commit writes the index, quantization.json, the JSON files, the
// tokenizer files and the manifest, fsyncs everything and renames the
// package into place. On any failure it removes the temporary directory,
// so the target is either the complete new package or untouched.
func (w *Writer) Commit() error {
	if err := w.usable(); err != nil {
		if !w.done {
			w.Abort() // broken by an earlier I/O failure
		}
		return err
	}
	err := w.commit()
	if err != nil {
		w.Abort()
		return err
	}
	w.done = true
	return nil
}

// commit does Commit's work; the caller cleans up on failure.
func (w *Writer) commit() error {
	switch {
	case w.meta == nil:
		return omexerr.Inputf("input.bad_package", "no metadata set").WithFile(MetadataFile)
	case w.graph == nil:
		return omexerr.Inputf("input.bad_package", "no graph set").WithFile(GraphFile)
	case w.tok == nil:
		return omexerr.Inputf("input.bad_package", "no tokenizer set").WithFile(TokenizerFile)
	}
	if e := w.closeCurrent(); e != nil {
		return e
	}
	slices.SortFunc(w.index, compareEntries)
	ix := Index{FormatVersion: RecordVersion, Alignment: Alignment, Tensors: nonNil(w.index)}
	if e := checkGraphWeights(w.graph, indexByName(&ix)); e != nil {
		return asInput(e, GraphFile)
	}
	for _, wf := range w.files {
		w.sums[wf.rel] = ManifestEntry{Path: wf.rel, Size: wf.size, SHA256: hex.EncodeToString(wf.h.Sum(nil))}
	}

	meta := *w.meta
	if meta.CreationDate == "" {
		meta.CreationDate = time.Now().UTC().Format(time.RFC3339)
	}
	if meta.Parameters == 0 {
		meta.Parameters = w.params
	}
	if meta.Quantization.Type == "" {
		meta.Quantization = w.quantizationSummary()
	}
	agent := w.agent
	if agent == nil {
		a := DefaultAgent(cmp.Or(w.graph.contextLength(), 2048))
		agent = &a
	}
	tok := w.tok
	files := []struct {
		rel string
		v   any
	}{
		{IndexFile, &ix},
		{QuantizationFile, quantizationFor(w.used)},
		{MetadataFile, &meta},
		{GraphFile, w.graph},
		{TokenizerFile, &tok.Config},
		{AgentFile, agent},
	}
	for _, f := range files {
		b, err := marshalJSON(f.v)
		if err != nil {
			return omexerr.Inputf("input.bad_package", "cannot encode JSON").WithFile(f.rel).Wrap(err)
		}
		if e := w.writeWhole(f.rel, b); e != nil {
			return e
		}
	}
	if e := w.writeWhole(VocabFile, encodeLines(tok.Vocab)); e != nil {
		return e
	}
	if tok.Merges != nil {
		if e := w.writeWhole(MergesFile, encodeLines(tok.Merges)); e != nil {
			return e
		}
	}
	if tok.Scores != nil {
		if e := w.writeWhole(ScoresFile, encodeFloat32s(tok.Scores)); e != nil {
			return e
		}
	}
	if tok.Types != nil {
		if e := w.writeWhole(TokenTypesFile, encodeInt32s(tok.Types)); e != nil {
			return e
		}
	}
	m := Manifest{Algorithm: "sha256", Files: []ManifestEntry{}}
	for _, e := range w.sums {
		m.Files = append(m.Files, e)
	}
	slices.SortFunc(m.Files, func(a, b ManifestEntry) int { return cmp.Compare(a.Path, b.Path) })
	b, err := marshalJSON(&m)
	if err != nil {
		return omexerr.Inputf("input.bad_package", "cannot encode JSON").WithFile(ManifestFile).Wrap(err)
	}
	if e := w.writeWhole(ManifestFile, b); e != nil {
		return e
	}
	for _, d := range []string{WeightsDir, TokenizerDir, AgentsDir, PreprocessorsDir, PostprocessDir, ExtensionsDir, "."} {
		if e := syncDir(filepath.Join(w.tmp, d)); e != nil {
			return e
		}
	}
	return w.moveIntoPlace()
}

// quantizationSummary describes the dtypes written for metadata.json.
func (w *Writer) quantizationSummary() Quantization {
	var q []string
	for d := tensor.F32; d.Valid(); d++ {
		if d.Quantized() && w.used[d] {
			q = append(q, d.String())
		}
	}
	switch len(q) {
	case 0:
		return Quantization{Type: "none", Method: "none"}
	case 1:
		return Quantization{Type: q[0], Method: "block_32_f32_scale", Symmetric: true}
	}
	return Quantization{Type: "mixed", Method: "block_32_f32_scale", Symmetric: true}
}

// writeWhole writes one small file of the package, fsyncs it and records
// its size and hash for the manifest.
func (w *Writer) writeWhole(rel string, b []byte) *omexerr.Error {
	f, err := os.OpenFile(filepath.Join(w.tmp, filepath.FromSlash(rel)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return ioError("cannot create file", rel, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ioError("cannot write file", rel, err)
	}
	if rel != ManifestFile {
		sum := sha256.Sum256(b)
		w.sums[rel] = ManifestEntry{Path: rel, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
	}
	return nil
}

// syncDir fsyncs a directory so the entries created in it are durable.
func syncDir(dir string) *omexerr.Error {
	f, err := os.Open(dir)
	if err != nil {
		return ioError("cannot open directory", dir, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ioError("cannot flush directory", dir, err)
	}
	return nil
}

// moveIntoPlace renames the finished temporary directory to the target. An
// existing target (allowed by Overwrite) is first renamed aside and only
// removed once the new package is in place; if the swap fails it is put
// back.
func (w *Writer) moveIntoPlace() error {
	if e := w.checkTarget(); e != nil {
		return e
	}
	parent := filepath.Dir(w.dir)
	var old string
	if _, err := os.Lstat(w.dir); err == nil {
		aside, err := os.MkdirTemp(parent, "."+filepath.Base(w.dir)+".omex-old-*")
		if err != nil {
			return ioError("cannot reserve a name for the old package", parent, err)
		}
		if err := os.Remove(aside); err != nil {
			return ioError("cannot reserve a name for the old package", aside, err)
		}
		if err := os.Rename(w.dir, aside); err != nil {
			return ioError("cannot move the old package aside", w.dir, err)
		}
		old = aside
	}
	if err := os.Rename(w.tmp, w.dir); err != nil {
		if old != "" {
			os.Rename(old, w.dir)
		}
		return ioError("cannot move the package into place", w.dir, err)
	}
	w.tmp = ""
	if old != "" {
		// The new package is in place; a leftover hidden copy of the old
		// one would only waste space, so a failure here is not reported.
		os.RemoveAll(old)
	}
	if e := syncDir(parent); e != nil {
		return e
	}
	return nil
}

// Abort discards everything written: it removes the temporary directory.
// It is safe to call more than once and after Commit (then it does nothing).
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.cur != nil {
		w.cur.f.Close()
		w.cur = nil
	}
	if w.tmp == "" {
		return nil
	}
	tmp := w.tmp
	w.tmp = ""
	if err := os.RemoveAll(tmp); err != nil {
		return ioError("cannot remove temporary directory", tmp, err)
	}
	return nil
}
