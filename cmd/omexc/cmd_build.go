package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omex-dev/omex/codegen/goasm"
	"github.com/omex-dev/omex/codegen/link"
	"github.com/omex-dev/omex/codegen/llvm"
	"github.com/omex-dev/omex/frontend"
	"github.com/omex-dev/omex/frontend/importer"
	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/passes"
	"github.com/omex-dev/omex/runtime/exe"
	"github.com/omex-dev/omex/targets"
	"github.com/omex-dev/omex/tensor"
)

// buildEmitKinds are the extra outputs build can write beside the
// executable (--emit). Code generators add theirs.
var buildEmitKinds = []string{"ir", "asm", "llvm"}

// buildFlags are build's own flags (the pass flags come from addPassFlags).
type buildFlags struct {
	target, goos, goarch, out, tokPath, work string
	backend                                  string
	emit                                     []string
	verbose                                  bool
}

func newBuildCmd() *cobra.Command {
	var bf buildFlags
	var opt *passes.Options
	c := &cobra.Command{
		Use:   "build MODEL [--target T] [-o OUT] [--quant Q] [--emit=ir] [pass flags]",
		Short: "Build a self-contained executable that runs the model",
		Long: `build compiles MODEL (any input run accepts) for a target machine into one
executable file that runs the model with nothing beside it: the weights are
appended to the program and memory-mapped when it starts.

It lowers the model to OMEX IR, runs the pass pipeline (the pass flags are
those of omexc compile; --quant converts the weights), writes a Go module
holding the runtime source omexc carries and a generated main, builds it
with the Go toolchain for the target (cross-compiling as needed: go must be
on the PATH, ` + link.MinGoVersion + ` or newer), and appends the weights. It prints the
executable's path, size and sha256; the same inputs and flags always give
the same bytes.

Targets: see omexc targets (the default is the best this machine runs).
--target=generic builds pure Go for any platform Go supports, chosen with
--goos and --goarch; --goos also moves a named target to another system.

Run the result with --help to see its flags (-p, -n, --temp, --top-k,
--top-p, --min-p, --seed, --stop, --no-echo, --version, --info).`,
		Example: `  omexc build testdata/stories260K/stories260K.bin --tokenizer testdata/stories260K/tok512.bin -o story
  ./story -p "Once upon a time" --temp 0
  omexc build model.gguf --target=arm64-neon --quant q8_0 -o story-arm64
  omexc build model.gguf --target=generic --goarch=riscv64 -o story-riscv64`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.ExactArgs(1)(cmd, args); err != nil {
				return usageError{fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd, args[0], &bf, opt)
		},
	}
	f := c.Flags()
	f.StringVar(&bf.target, "target", "", "the machine to build for (default: the best target this machine runs; see omexc targets)")
	f.StringVar(&bf.goos, "goos", "", "operating system to build for (default: the target's)")
	f.StringVar(&bf.goarch, "goarch", "", "architecture to build for, with --target=generic (default: this machine's)")
	f.StringVarP(&bf.out, "output", "o", "", "the executable to write (default: the model's name in the current directory)")
	f.StringVar(&bf.tokPath, "tokenizer", "", "tokenizer file (needed for llama2.c checkpoints: tokenizer.bin)")
	f.StringSliceVar(&bf.emit, "emit", nil, "also write these beside the executable: "+strings.Join(buildEmitKinds, ", ")+" (OUT.ir: the optimized IR; OUT.asm/: the generated Go assembly, stubs, fallbacks and schedule; OUT.ll: the kernels as LLVM IR)")
	f.StringVar(&bf.backend, "backend", "goasm", "kernel backend: goasm (Go assembly, no external tools) or llvm (kernels compiled by llc, linked without cgo)")
	f.StringVar(&bf.work, "work", "", "write the Go build module into this directory and keep it (for inspection)")
	f.BoolVarP(&bf.verbose, "verbose", "v", false, "print what the passes report (FLOPs saved, arena sizes, precision) to stderr")
	opt = addPassFlags(f)
	return c
}

// runBuild is omexc build.
func runBuild(cmd *cobra.Command, modelPath string, bf *buildFlags, opt *passes.Options) error {
	start := time.Now()
	for _, k := range bf.emit {
		if !slices.Contains(buildEmitKinds, k) {
			return omexerr.Inputf("input.bad_flag", "unknown --emit %q; valid: %s", k, strings.Join(buildEmitKinds, ", ")).WithFlag("--emit")
		}
	}
	if bf.backend != "goasm" && bf.backend != "llvm" {
		return omexerr.Inputf("input.bad_flag", "unknown --backend %q; valid: goasm, llvm", bf.backend).WithFlag("--backend")
	}
	t, err := resolveTarget(bf)
	if err != nil {
		return err
	}
	if opt.Quant != "f32" && opt.Quant != "" {
		if _, ok := passes.Lookup("precision"); !ok {
			return omexerr.Inputf("input.bad_flag", "--quant=%s needs the precision pass, which this omexc does not have; only f32 (weights as stored) builds", opt.Quant).WithFlag("--quant")
		}
	}
	if strings.HasSuffix(modelPath, ".ir") {
		return omexerr.Inputf("input.no_weights", "an IR text file has no weights to build an executable from; give the model itself").WithFile(modelPath)
	}
	src, err := importer.Open(modelPath, importer.OpenOptions{Tokenizer: bf.tokPath})
	if err != nil {
		return err
	}
	defer src.Close()
	m, err := lowerSource(src)
	if err != nil {
		return err
	}
	opt.Target, opt.Weights = t.Name, src.ReadTensor
	res, err := passes.Compile(cmd.Context(), m, *opt)
	if err != nil {
		return err
	}
	if bf.verbose {
		passes.WriteFindings(os.Stderr, res.Findings)
	}
	modelName := src.Meta().Name
	if modelName == "" {
		modelName = strings.TrimSuffix(filepath.Base(filepath.Clean(modelPath)), filepath.Ext(modelPath))
	}
	out := bf.out
	if out == "" {
		out = defaultExeName(modelName, t)
	}
	for _, k := range bf.emit {
		if k == "ir" {
			if err := writeOutput(out+".ir", ir.Print(res.Module)); err != nil {
				return err
			}
		}
	}
	sum, err := inputSHA256(modelPath)
	if err != nil {
		return err
	}
	weights, err := buildWeights(src, modelName, res.Module)
	if err != nil {
		return err
	}
	facts := buildFacts(t, modelName, sum, res.Module, opt)
	gen, ctor, err := generateModel(res.Module, t, &weights, src, &facts, bf.verbose)
	if err != nil {
		return err
	}
	if bf.backend == "llvm" || slices.Contains(bf.emit, "llvm") {
		if len(gen) == 0 {
			return omexerr.Inputf("input.bad_flag", "target %s runs the reference runtime: there are no kernels for LLVM to compile", t.Name).WithFlag("--backend")
		}
		if err := llvmKernels(cmd.Context(), res.Module, t, gen, bf, out, &facts); err != nil {
			return err
		}
	}
	if slices.Contains(bf.emit, "asm") {
		if len(gen) == 0 {
			return omexerr.Inputf("input.bad_flag", "--emit=asm: target %s runs the reference runtime, so there is no generated code to write", t.Name).WithFlag("--emit")
		}
		if err := writeGenerated(out+".asm", gen); err != nil {
			return err
		}
	}
	req := link.Request{
		Target:    t,
		Output:    out,
		Facts:     facts,
		Weights:   weights,
		WorkDir:   bf.work,
		Generated: gen,
		Ctor:      ctor,
	}
	pr := newBuildProgress()
	req.Progress = pr.update
	r, err := link.Build(cmd.Context(), req)
	pr.finish()
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "wrote %s for %s\n", r.Path, t)
	fmt.Fprintf(w, "  size   %d bytes (program %d, weights %d)\n", r.Size, r.ProgramBytes, r.WeightBytes)
	fmt.Fprintf(w, "  sha256 %s\n", r.SHA256)
	fmt.Fprintf(w, "  time   %v (go build %v)\n", time.Since(start).Round(time.Millisecond), r.GoBuild.Round(time.Millisecond))
	if r.WorkDir != "" {
		fmt.Fprintf(w, "  build module kept in %s\n", r.WorkDir)
	}
	return nil
}

// writeGenerated writes the generated package's files into dir (replacing
// files of the same names), for people to read what the build compiled.
func writeGenerated(dir string, gen map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return omexerr.Resourcef("resource.write", "cannot create the directory").WithFile(dir).WithFlag("--emit").Wrap(err)
	}
	for _, name := range slices.Sorted(maps.Keys(gen)) {
		if err := writeOutput(filepath.Join(dir, filepath.Base(name)), string(gen[name])); err != nil {
			return err
		}
	}
	return nil
}

// llvmKernels writes the matvec kernels as LLVM IR for --emit=llvm and,
// with --backend=llvm, compiles them with llc and puts them in place of the
// Go-assembly kernels in gen (the schedule stays the same).
func llvmKernels(ctx context.Context, m *ir.Module, t targets.Target, gen map[string][]byte, bf *buildFlags, out string, facts *exe.Facts) error {
	ks, err := llvm.ModuleKernels(m, t)
	if err != nil {
		return err
	}
	if slices.Contains(bf.emit, "llvm") {
		text, err := llvm.Emit(t, ks)
		if err != nil {
			return err
		}
		if err := writeOutput(out+".ll", text); err != nil {
			return err
		}
	}
	if bf.backend != "llvm" {
		return nil
	}
	llc, err := llvm.FindLLC()
	if err != nil {
		return err
	}
	files, err := llvm.Package(ctx, "model", t, ks, llc)
	if err != nil {
		return err
	}
	for name := range gen {
		if strings.HasPrefix(filepath.Base(name), "matvec_") {
			delete(gen, name)
		}
	}
	for _, f := range files {
		gen["gen/model/"+f.Name] = f.Data
	}
	facts.Backend = "llvm"
	return nil
}

// generateModel generates the model's decode schedule and matvec kernels
// for the target's instruction set (codegen/goasm) and points the weights at
// the layout those kernels read. Generic targets, and modules the schedule
// generator cannot express, keep the reference runtime: the executable is
// correct either way, and --version/--info say which backend runs it.
func generateModel(m *ir.Module, t targets.Target, w *link.Weights, src frontend.Source, facts *exe.Facts, verbose bool) (map[string][]byte, link.ModelCtor, error) {
	isa, _ := goasm.ForTarget(t)
	if isa == goasm.Generic {
		return nil, link.ModelCtor{}, nil
	}
	files, err := goasm.GenerateModel(m, isa, "model")
	if err != nil {
		if e, ok := omexerr.As(err); ok && e.Code == "model.codegen_unsupported" {
			if verbose {
				fmt.Fprintf(os.Stderr, "codegen: %v; the executable runs the reference runtime\n", err)
			}
			return nil, link.ModelCtor{}, nil
		}
		return nil, link.ModelCtor{}, err
	}
	gen := map[string][]byte{}
	for _, f := range files {
		gen["gen/model/"+f.Name] = f.Data
	}
	w.Read = passes.RepackedWeights(m, t.Name, src.ReadTensor)
	for i := range w.Tensors {
		if decl := m.Weight(w.Tensors[i].Name); decl != nil {
			w.Tensors[i].Layout = decl.Layout
		}
	}
	facts.Backend = "goasm"
	return gen, link.ModelCtor{Package: "github.com/omex-dev/omex/gen/model", Func: goasm.ModelFunc}, nil
}

// resolveTarget turns --target, --goos and --goarch into a target: the
// host's best when --target is absent, generic for another platform.
func resolveTarget(bf *buildFlags) (targets.Target, error) {
	name := bf.target
	if name == "" {
		if bf.goarch != "" {
			name = "generic" // another architecture: only pure Go fits every one
		} else {
			name = targets.Host().Name
		}
	}
	if name == "generic" {
		return targets.Generic(bf.goos, bf.goarch)
	}
	t, err := targets.Lookup(name)
	if err != nil {
		if e, ok := omexerr.As(err); ok {
			return t, e.WithFlag("--target")
		}
		return t, err
	}
	if bf.goarch != "" && bf.goarch != t.GOARCH {
		return t, omexerr.Inputf("input.bad_flag", "--goarch=%s does not fit --target=%s, which is %s; use --target=generic for another architecture", bf.goarch, t.Name, t.GOARCH).WithFlag("--goarch")
	}
	if bf.goos != "" {
		return t.WithGOOS(bf.goos)
	}
	return t, nil
}

// defaultExeName is the model's name in the current directory, with .exe
// for Windows.
func defaultExeName(name string, t targets.Target) string {
	name = strings.NewReplacer("/", "_", `\`, "_").Replace(name)
	if t.GOOS == "windows" {
		name += ".exe"
	}
	return name
}

// buildWeights lists the tensors the executable carries, the optimized
// module's weights in declaration order, each read from the input and
// converted to the dtype the module declares for it (--quant). They stay
// row-major: the reference runtime reads them so, and a code generator
// that wants another layout repacks them itself.
func buildWeights(src frontend.Source, name string, m *ir.Module) (link.Weights, error) {
	w := link.Weights{Model: name, Config: src.Config(), Tokenizer: src.Tokenizer()}
	declared := map[string]tensor.DType{}
	for _, decl := range m.Weights {
		dt, ok := decl.Type.Elem.DType()
		if !ok {
			return w, omexerr.Modelf("model.tensor_dtype", "weight %s is declared %s, which no executable can hold", decl.Name, decl.Type.Elem).WithTensor(decl.Name)
		}
		declared[decl.Name] = dt
		n := 1
		for _, d := range decl.Type.Shape {
			n *= d.N
		}
		bytes := int64(dt.DataBytes(n))
		if dt.Quantized() {
			bytes += int64(4 * n / tensor.BlockSize)
		}
		w.Tensors = append(w.Tensors, link.TensorRef{Name: decl.Name, Bytes: bytes})
	}
	w.Read = func(name string) (*tensor.Tensor, error) {
		t, err := src.ReadTensor(name)
		if err != nil {
			return nil, err
		}
		if dt := declared[name]; t.DType != dt {
			c, err := tensor.Convert(t, dt)
			if err != nil {
				return nil, omexerr.Modelf("model.convert", "cannot convert tensor %s to %s", name, dt).WithTensor(name).Wrap(err)
			}
			return c, nil
		}
		return t, nil
	}
	return w, nil
}

// buildFacts are what the executable reports with --version and --info.
// Only flags that change the executable are recorded, never paths, so two
// builds of the same inputs stay identical.
func buildFacts(t targets.Target, modelName, sum string, m *ir.Module, opt *passes.Options) exe.Facts {
	quant := opt.Quant
	if quant == "" {
		quant = "f32"
	}
	f := exe.Facts{
		Compiler: versionString(), Target: t.Name, GOOS: t.GOOS, GOARCH: t.GOARCH, Backend: "reference",
		Model: modelName, ModelSHA256: sum, Quant: quant,
		Flags: []string{"--target=" + t.Name, "--goos=" + t.GOOS, "--goarch=" + t.GOARCH, "--quant=" + quant},
	}
	if t.LevelVar != "" {
		f.Level = t.LevelVar + "=" + t.Level
	}
	if len(opt.DisablePass) > 0 {
		f.Flags = append(f.Flags, "--disable-pass="+strings.Join(opt.DisablePass, ","))
	}
	count := map[string]int{}
	for _, w := range m.Weights {
		count[w.Type.Elem.String()]++
	}
	var types []string
	for _, e := range slices.Sorted(maps.Keys(count)) {
		types = append(types, fmt.Sprintf("%d %s", count[e], e))
	}
	f.WeightTypes = strings.Join(types, ", ")
	for _, fn := range m.Funcs {
		p := exe.PlanFunc{Name: fn.Name, Instructions: len(fn.Body)}
		if plan := m.Plan(fn.Name); plan != nil {
			p.ArenaBytes = plan.Arena
		}
		f.Plan = append(f.Plan, p)
	}
	return f
}

// inputSHA256 identifies the model input: the sha256 of the file, or for a
// directory the sha256 of its `sha256sum`-style listing (one "HASH  PATH"
// line per regular file, sorted by slash path), so it changes when any
// file does.
func inputSHA256(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", omexerr.Inputf("input.not_found", "cannot open the model").WithFile(path).Wrap(err)
	}
	if !st.IsDir() {
		return fileSHA256(path)
	}
	var lines []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		lines = append(lines, sum+"  "+filepath.ToSlash(rel)+"\n")
		return nil
	})
	if err != nil {
		if _, ok := omexerr.As(err); ok {
			return "", err
		}
		return "", omexerr.Inputf("input.unreadable", "cannot read the model directory").WithFile(path).Wrap(err)
	}
	slices.Sort(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "")))
	return hex.EncodeToString(h[:]), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", omexerr.Inputf("input.unreadable", "cannot read the model").WithFile(path).Wrap(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", omexerr.Inputf("input.unreadable", "cannot read the model").WithFile(path).Wrap(err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// buildProgress shows build's stages on a terminal: a line per stage and
// a bar while the weights are appended.
type buildProgress struct {
	stage string
	bar   *progress
}

func newBuildProgress() *buildProgress { return &buildProgress{} }

func (b *buildProgress) update(stage string, done, total int64) {
	if stage != b.stage {
		if b.bar != nil {
			b.bar.finish()
		}
		b.stage = stage
		b.bar = newProgress(stage, total)
		b.bar.add(0, "")
	}
	if done > b.bar.done {
		b.bar.add(done-b.bar.done, "")
	}
}

func (b *buildProgress) finish() {
	if b.bar != nil {
		b.bar.finish()
	}
}
