package format

import (
	"strings"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/tensor"
)

// Graph is graph.json: the model as a graph of typed nodes joined by edges.
// Every node lists the weights it needs, so Verify can check a package
// without knowing the model family.
type Graph struct {
	GraphID     string       `json:"graph_id"`
	GraphType   string       `json:"graph_type"` // e.g. "decoder_only_transformer"
	Nodes       []Node       `json:"nodes"`
	Edges       []Edge       `json:"edges"`
	EntryPoints []EntryPoint `json:"entry_points"`
}

// The node types a package may use.
const (
	NodeEmbedding        = "embedding"         // token ids -> hidden states
	NodeTransformerBlock = "transformer_block" // attention + feed-forward, with its norms
	NodeNorm             = "norm"              // RMS or layer normalization
	NodeLinear           = "linear"            // matrix multiply (+ bias)
)

var nodeTypes = map[string]bool{NodeEmbedding: true, NodeTransformerBlock: true, NodeNorm: true, NodeLinear: true}

// Node is one operation of the graph. Inputs and Outputs name its ports;
// edges connect an output port of one node to an input port of another.
type Node struct {
	ID      string      `json:"id"`
	Type    string      `json:"type"`
	Inputs  []string    `json:"inputs"`
	Outputs []string    `json:"outputs"`
	Config  NodeConfig  `json:"config"`
	Weights []WeightRef `json:"weights"`
}

// NodeConfig holds the hyper-parameters of a node; each node type sets the
// fields that apply to it and the rest are omitted from the JSON.
type NodeConfig struct {
	Layer             *int    `json:"layer,omitempty"` // block index (transformer_block)
	VocabSize         int     `json:"vocab_size,omitempty"`
	HiddenSize        int     `json:"hidden_size,omitempty"`
	IntermediateSize  int     `json:"intermediate_size,omitempty"`
	NumAttentionHeads int     `json:"num_attention_heads,omitempty"`
	NumKeyValueHeads  int     `json:"num_key_value_heads,omitempty"`
	AttentionHeadSize int     `json:"attention_head_size,omitempty"`
	ContextLength     int     `json:"context_length,omitempty"`
	RopeTheta         float32 `json:"rope_theta,omitempty"`
	RopeLayout        string  `json:"rope_layout,omitempty"` // "interleaved" or "half_split"
	NormType          string  `json:"norm_type,omitempty"`   // "rms_norm" or "layer_norm"
	NormEps           float32 `json:"norm_eps,omitempty"`
	Activation        string  `json:"activation,omitempty"` // e.g. "silu"
	QKVBias           bool    `json:"qkv_bias,omitempty"`
	OutputBias        bool    `json:"output_bias,omitempty"`
	MLPBias           bool    `json:"mlp_bias,omitempty"`
	InFeatures        int     `json:"in_features,omitempty"`
	OutFeatures       int     `json:"out_features,omitempty"`
	Bias              bool    `json:"bias,omitempty"` // linear
}

// WeightRef names a weight a node needs, with the dtype name (see
// tensor.DType.String) and shape the package must store it with.
type WeightRef struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
}

// Edge connects From ("node.output") to To ("node.input").
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// EntryPoint is a way to run the graph: the ports that take its inputs
// ("node.input") and give its outputs ("node.output").
type EntryPoint struct {
	Name    string   `json:"name"`
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
}

// Endpoint joins a node id and a port name as edges spell them.
func Endpoint(node, port string) string { return node + "." + port }

// ParseDType returns the dtype whose String is name.
func ParseDType(name string) (tensor.DType, bool) {
	for d := tensor.F32; d.Valid(); d++ {
		if d.String() == name {
			return d, true
		}
	}
	return 0, false
}

// validIdent reports whether s can be a node id or port name: 1..128
// letters, digits, '_' or '-' (no '.', which separates them in edges).
func validIdent(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validate checks that the graph is well formed: unique ids, known types,
// edges and entry points that name existing ports, and weight references
// with valid dtypes and shapes.
func (g *Graph) validate() *omexerr.Error {
	bad := func(format string, args ...any) *omexerr.Error {
		return omexerr.Modelf("model.bad_graph", format, args...)
	}
	if g.GraphID == "" {
		return bad("graph_id is missing")
	}
	if g.GraphType == "" {
		return bad("graph_type is missing")
	}
	if len(g.Nodes) == 0 {
		return bad("graph has no nodes")
	}
	type ports struct{ in, out map[string]bool }
	nodes := make(map[string]ports, len(g.Nodes))
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if !validIdent(n.ID) {
			return bad("node %d: id %q must be 1..128 of [A-Za-z0-9_-]", i, n.ID)
		}
		if _, dup := nodes[n.ID]; dup {
			return bad("node id %q appears twice", n.ID)
		}
		if !nodeTypes[n.Type] {
			return bad("node %q: unknown type %q", n.ID, n.Type)
		}
		if n.Type == NodeTransformerBlock && (n.Config.Layer == nil || *n.Config.Layer < 0 || *n.Config.Layer > MaxLayer) {
			return bad("node %q: transformer_block needs a config.layer in 0..%d", n.ID, MaxLayer)
		}
		p := ports{in: map[string]bool{}, out: map[string]bool{}}
		for _, list := range []struct {
			names []string
			set   map[string]bool
			what  string
		}{{n.Inputs, p.in, "input"}, {n.Outputs, p.out, "output"}} {
			for _, name := range list.names {
				if !validIdent(name) {
					return bad("node %q: %s name %q must be 1..128 of [A-Za-z0-9_-]", n.ID, list.what, name)
				}
				if list.set[name] {
					return bad("node %q: %s %q appears twice", n.ID, list.what, name)
				}
				list.set[name] = true
			}
		}
		seen := map[string]bool{}
		for _, w := range n.Weights {
			if w.Name == "" {
				return bad("node %q: weight with no name", n.ID)
			}
			if seen[w.Name] {
				return bad("node %q: weight %q listed twice", n.ID, w.Name)
			}
			seen[w.Name] = true
			d, ok := ParseDType(w.DType)
			if !ok {
				return bad("node %q: weight %q has unknown dtype %q", n.ID, w.Name, w.DType)
			}
			if why := checkShape(d, w.Shape); why != "" {
				return bad("node %q: weight %q shape %v: %s", n.ID, w.Name, w.Shape, why)
			}
		}
		nodes[n.ID] = p
	}
	// port checks that an endpoint names an existing input or output.
	port := func(ep string, output bool) bool {
		id, name, ok := strings.Cut(ep, ".")
		p, found := nodes[id]
		if !ok || !found {
			return false
		}
		if output {
			return p.out[name]
		}
		return p.in[name]
	}
	for _, e := range g.Edges {
		if !port(e.From, true) {
			return bad("edge %q -> %q: %q is not an output of a node", e.From, e.To, e.From)
		}
		if !port(e.To, false) {
			return bad("edge %q -> %q: %q is not an input of a node", e.From, e.To, e.To)
		}
	}
	if len(g.EntryPoints) == 0 {
		return bad("graph has no entry points")
	}
	for _, ep := range g.EntryPoints {
		if ep.Name == "" {
			return bad("entry point with no name")
		}
		for _, in := range ep.Inputs {
			if !port(in, false) {
				return bad("entry point %q: %q is not an input of a node", ep.Name, in)
			}
		}
		for _, out := range ep.Outputs {
			if !port(out, true) {
				return bad("entry point %q: %q is not an output of a node", ep.Name, out)
			}
		}
	}
	return nil
}

// contextLength is the largest context_length any node states, or 0.
func (g *Graph) contextLength() int {
	n := 0
	for i := range g.Nodes {
		n = max(n, g.Nodes[i].Config.ContextLength)
	}
	return n
}
