// Package interp executes the functions of an IR module on real weights:
// the oracle every pass and backend is checked against. Its arithmetic is
// the reference kernels of runtime/kernels, the ones runtime/model calls,
// so a module lowered from a model computes the same float32 operations in
// the same order as the reference forward pass and agrees with it bit for
// bit. Fused ops run exactly the operations of their unfused expansion.
//
// The interpreter holds the module's state (the KV cache) across calls: a
// prefill call then decode calls continue one context, as runtime/model's
// Forward does; Reset starts a new one.
package interp

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/omex-dev/omex/ir"
	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// MaxStateBytes bounds the memory New allocates for a module's state, so a
// module that binds an absurd context is refused rather than exhausting
// memory.
const MaxStateBytes = 1 << 36

// Interp runs the functions of one verified module. It is not safe for
// concurrent use.
type Interp struct {
	m      *ir.Module
	w      *weightSet
	states map[string]*state
	progs  map[string]*program
	ropes  map[ropeKey]*ropeTable
	scores []float32 // attention scratch, as long as the longest state
	cos    []float32 // rope scratch for positions past the table cache
	sin    []float32
	prof   *profile // per-op timing, when enabled
}

// state is one state tensor (a KV cache) and how many of its leading rows
// hold positions written since the last Reset: attention never reads past
// them.
type state struct {
	data        []float32
	rows, width int
	filled      int
}

// New verifies m, fetches through weights every weight its instructions
// read and checks it against its declaration (rank-2 weights stay in their
// stored element type and are dequantized as they are read; F32 data is
// used in place, never written), allocates the state (sized by the
// module's dim bindings, e.g. ctx) and prepares every function to run.
func New(m *ir.Module, weights func(name string) (*tensor.Tensor, error)) (*Interp, error) {
	if m == nil {
		return nil, omexerr.Modelf("model.invalid_ir", "nil module")
	}
	if err := ir.Verify(m); err != nil {
		return nil, err
	}
	if weights == nil {
		weights = func(name string) (*tensor.Tensor, error) {
			return nil, omexerr.Modelf("model.missing_tensor", "no weights were given to the interpreter").WithTensor(name)
		}
	}
	ws, err := loadWeights(m, weights)
	if err != nil {
		return nil, err
	}
	ip := &Interp{m: m, w: ws, states: map[string]*state{}, progs: map[string]*program{}, ropes: map[ropeKey]*ropeTable{}}
	if err := ip.allocStates(); err != nil {
		return nil, err
	}
	for _, f := range m.Funcs {
		p, err := ip.compile(f)
		if err != nil {
			return nil, err
		}
		ip.progs[f.Name] = p
	}
	return ip, nil
}

// allocStates allocates every f32 state of the module, zeroed.
func (ip *Interp) allocStates() error {
	var total int64
	for _, s := range ip.m.States {
		shape, err := concreteShape(ip.m, s.Type)
		if err != nil {
			return omexerr.Modelf("model.invalid_ir", "state @%s : %s: %v", s.Name, s.Type, err)
		}
		if s.Type.Elem != ir.F32 {
			return omexerr.Modelf("model.invalid_ir", "state @%s : %s: the interpreter holds f32 state only", s.Name, s.Type)
		}
		n, ok := product(shape)
		if !ok || total+4*int64(n) > MaxStateBytes {
			return omexerr.Resourcef("resource.state_too_large", "state of the module (at @%s : %s) needs more than %d bytes", s.Name, s.Type, int64(MaxStateBytes))
		}
		total += 4 * int64(n)
		st := &state{data: make([]float32, n), rows: 1, width: n}
		if len(shape) > 0 {
			st.rows = shape[0]
			if st.rows > 0 {
				st.width = n / st.rows
			}
		}
		ip.states[s.Name] = st
		if st.rows > len(ip.scores) {
			ip.scores = make([]float32, st.rows)
		}
	}
	return nil
}

// product multiplies sizes, reporting false when the product overflows an
// int (or a size is negative).
func product(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// Module returns the module the interpreter runs.
func (ip *Interp) Module() *ir.Module { return ip.m }

// Reset clears the state (zeroes every KV cache and forgets its positions)
// so the next call starts a new context at position 0.
func (ip *Interp) Reset() {
	for _, st := range ip.states {
		clear(st.data)
		st.filled = 0
	}
}

// Call runs function fn on args, which must match its parameters in order:
// element type, rank, constant dimensions and bound symbols (ctx) exactly;
// free symbols such as seq are bound from the arguments' shapes and must be
// the same wherever they appear. Attention writes its rows into the state,
// so calls continue one context. Call returns the function's results as
// new values the caller owns. Bad arguments are InputErrors; positions
// outside the context or past what the state holds are ExecutionErrors.
// After an error the state may hold some of the failed call's rows: Reset
// or continue from a position that was filled before it.
func (ip *Interp) Call(fn string, args ...Value) ([]Value, error) {
	p := ip.progs[fn]
	if p == nil {
		names := make([]string, 0, len(ip.progs))
		for n := range ip.progs {
			names = append(names, "@"+n)
		}
		sort.Strings(names)
		return nil, omexerr.Inputf("input.unknown_function", "module %q has no function @%s (it has %s)", ip.m.Name, fn, strings.Join(names, ", "))
	}
	if err := p.bindArgs(args); err != nil {
		return nil, err
	}
	if err := p.resolve(); err != nil {
		return nil, err
	}
	for i := range p.steps {
		var start time.Time
		if ip.prof != nil {
			start = time.Now()
		}
		if err := p.steps[i](); err != nil {
			return nil, p.locate(i, err)
		}
		if ip.prof != nil {
			ip.prof.add(p.fn.Body[i].Op.String(), time.Since(start))
		}
	}
	out := make([]Value, len(p.results))
	for i, r := range p.results {
		out[i] = r.value().clone()
	}
	return out, nil
}

// locate puts the function and instruction that failed in front of an
// error's message.
func (p *program) locate(i int, err error) error {
	where := fmt.Sprintf("@%s, instr %d (%s)", p.fn.Name, i, p.fn.Body[i])
	if oe, ok := omexerr.As(err); ok {
		oe.Msg = where + ": " + oe.Msg
		return oe
	}
	return omexerr.Executionf("execution.failed", "%s", where).Wrap(err)
}
