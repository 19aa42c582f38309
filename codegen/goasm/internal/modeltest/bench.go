package modeltest

import (
	"testing"

	"github.com/omex-dev/omex/codegen/goasm/internal/modelset"
	"github.com/omex-dev/omex/compile"
	"github.com/omex-dev/omex/internal/testfiles"
	"github.com/omex-dev/omex/runtime/generate"
	"github.com/omex-dev/omex/runtime/model"
	"github.com/omex-dev/omex/targets"
)

// Bench times one decode step (a 5-token context, the step rewritten each
// iteration) of the generated model against the reference runtime
// (runtime/model, what Step 1 executables run) and the IR interpreter.
func Bench(b *testing.B, pkg string, newModel NewModel) {
	m, err := modelset.ByPackage(pkg)
	if err != nil {
		b.Fatal(err)
	}
	if tg, err := targets.Lookup(m.Target); err != nil || !tg.Supported() || m.IR != "" {
		b.Skip("not a file model this machine runs")
	}
	c, err := m.Compile(testfiles.Shared(b))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	gen, err := newModel(c.Weights())
	if err != nil {
		b.Fatal(err)
	}
	rm, err := model.New(c.Config, c.Read)
	if err != nil {
		b.Fatal(err)
	}
	sess, err := compile.NewSession(c.Module, c.Read)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range []struct {
		name string
		m    generate.Model
	}{{"generated", gen}, {"reference", generate.Reference(rm)}, {"interpreter", sess}} {
		b.Run(r.name, func(b *testing.B) {
			if _, err := r.m.Prefill([]int{1, 9, 70, 300, 14}, 0); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := r.m.Decode(42, 5); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchPrefill times a 64-token prompt through the generated Prefill
// (chunks of rows through the several-rows kernels) against the same
// prompt through Decode token by token (what Prefill ran before), and
// reports prompt tokens per second.
func BenchPrefill(b *testing.B, pkg string, newModel NewModel) {
	m, err := modelset.ByPackage(pkg)
	if err != nil {
		b.Fatal(err)
	}
	if tg, err := targets.Lookup(m.Target); err != nil || !tg.Supported() || m.IR != "" {
		b.Skip("not a file model this machine runs")
	}
	c, err := m.Compile(testfiles.Shared(b))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	gen, err := newModel(c.Weights())
	if err != nil {
		b.Fatal(err)
	}
	prompt := make([]int, min(64, gen.ContextLength()))
	for i := range prompt {
		prompt[i] = (i*7919 + 13) % gen.VocabSize()
	}
	run := func(b *testing.B, f func() error) {
		for b.Loop() {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(prompt)*b.N)/b.Elapsed().Seconds(), "tok/s")
	}
	b.Run("prefill", func(b *testing.B) {
		run(b, func() error { _, err := gen.Prefill(prompt, 0); return err })
	})
	b.Run("per-token", func(b *testing.B) {
		run(b, func() error {
			for i, t := range prompt {
				if _, err := gen.Decode(t, i); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
