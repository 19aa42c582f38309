// Package link makes a produced executable: it writes a temporary Go
// module holding the runtime source omexc carries (package omex), the
// generated code and a generated main, runs `go build` in it for the
// target, and appends the weights, their index and the trailer
// (runtime/exe's format) to the program. The result is one file that runs
// the model with nothing beside it. docs/BUILD.md describes the process.
package link

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/exe"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/runtime/tokenizer"
	"github.com/omex-dev/omex/targets"
	"github.com/omex-dev/omex/tensor"
)

// DefaultAlign is the alignment of the weights in the file: 16 KiB, a
// multiple of every common page size (4 KiB on x86, 16 KiB on Apple
// silicon), so the mapping begins exactly at the weights. The runtime maps
// from the page boundary below whatever the system's page size is, so a
// larger page still works.
const DefaultAlign = 16384

// Request is one executable to build.
type Request struct {
	Target targets.Target
	Output string    // the executable's path; written atomically
	Facts  exe.Facts // compiled into the generated main (--version, --info)
	Ctor   ModelCtor // the model the executable runs; zero: the reference runtime
	// Generated holds the code generator's files by slash path relative to
	// the build module's root (e.g. "gen/model/schedule.go"), package
	// directories of github.com/omex-dev/omex.
	Generated map[string][]byte
	Weights   Weights
	GoCmd     string // the go command; "" means "go" from the PATH
	// WorkDir, when set, is where the build module is written and left
	// for inspection; otherwise a temporary directory is used and removed.
	WorkDir  string
	Align    int // weights alignment; 0 means DefaultAlign
	Progress func(stage string, done, total int64)
}

// Weights is what the executable carries after its code: the model's
// shape, its tokenizer and its tensors, read one at a time (in the order
// given) so a build holds one tensor in memory, not the model.
type Weights struct {
	Model     string
	Config    model.Config
	Tokenizer tokenizer.Spec
	Tensors   []TensorRef
	// Read returns a tensor in the form the executable wants (already
	// converted and laid out).
	Read func(name string) (*tensor.Tensor, error)
}

// TensorRef names one tensor to carry and its layout ("" is row-major).
type TensorRef struct {
	Name   string
	Layout string
	Bytes  int64 // for progress: the tensor's size, data and scales (0 if unknown)
}

// Result describes the executable written.
type Result struct {
	Path         string
	Size         int64
	SHA256       string // hex
	ProgramBytes int64  // the Go program before the weights
	WeightBytes  int64  // the weights region
	GoBuild      time.Duration
	WorkDir      string // the build module's directory when Request.WorkDir kept it
}

// Build writes the build module, runs go build and appends the weights. A
// failure leaves no output file behind.
func Build(ctx context.Context, r Request) (*Result, error) {
	progress := r.Progress
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	mainGo, err := mainSource(r.Facts, r.Ctor)
	if err != nil {
		return nil, omexerr.Configf("build.bad_main", "cannot generate the executable's main").Wrap(err)
	}
	gen := map[string][]byte{"main.go": mainGo}
	for p, b := range r.Generated {
		gen[p] = b
	}
	mod, err := newBuildModule(gen)
	if err != nil {
		return nil, err
	}
	dir := r.WorkDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "omexc-build-"); err != nil {
			return nil, omexerr.Resourcef("resource.io", "cannot create a temporary build directory").Wrap(err)
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, omexerr.Resourcef("resource.io", "cannot create the build directory").WithFile(dir).Wrap(err)
	}
	progress("writing the build module", 0, 1)
	if err := mod.write(dir); err != nil {
		return nil, err
	}
	progress("go build "+r.Target.String(), 0, 1)
	start := time.Now()
	prog := filepath.Join(dir, "omex-program")
	if err := goBuild(ctx, r.GoCmd, dir, prog, r.Target); err != nil {
		return nil, err
	}
	res := &Result{Path: r.Output, GoBuild: time.Since(start)}
	if r.WorkDir != "" {
		res.WorkDir = dir
	}
	if err := assemble(ctx, prog, r, res, progress); err != nil {
		return nil, err
	}
	return res, nil
}

// assemble writes the output beside its final name: the program, then the
// weights bundle, hashing as it goes, and renames it into place.
func assemble(ctx context.Context, prog string, r Request, res *Result, progress func(string, int64, int64)) error {
	out := r.Output
	fail := func(err error) error {
		return omexerr.Resourcef("resource.io", "cannot write the executable").WithFile(out).WithFlag("-o").Wrap(err)
	}
	in, err := os.Open(prog)
	if err != nil {
		return omexerr.Resourcef("resource.io", "cannot read the program go build wrote").WithFile(prog).Wrap(err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp*")
	if err != nil {
		return fail(err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	n, err := io.Copy(w, in)
	if err != nil {
		return fail(err)
	}
	res.ProgramBytes = n
	align := r.Align
	if align == 0 {
		align = DefaultAlign
	}
	bw, err := exe.NewBundleWriter(w, n, align)
	if err != nil {
		return err
	}
	var total, done int64
	for _, t := range r.Weights.Tensors {
		total += t.Bytes
	}
	for _, ref := range r.Weights.Tensors {
		if err := ctx.Err(); err != nil {
			return omexerr.Executionf("build.cancelled", "the build was cancelled").Wrap(err)
		}
		t, err := r.Weights.Read(ref.Name)
		if err != nil {
			return err
		}
		if err := bw.Add(t, ref.Layout); err != nil {
			return err
		}
		done += ref.Bytes
		progress("appending the weights", done, total)
	}
	if err := bw.Finish(r.Weights.Model, r.Weights.Config, r.Weights.Tokenizer); err != nil {
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fail(err)
	}
	ok = true
	res.Size = bw.Size()
	res.WeightBytes = int64(bw.Trailer().WeightsLen)
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	return nil
}
