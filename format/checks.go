package format

import (
	"github.com/omex-dev/omex/omexerr"
	"slices"
)

// checkGraphWeights checks that every weight a graph node needs is in the
// index with the dtype and shape the node states. This is what lets Verify
// check a package without knowing the model family.
func checkGraphWeights(g *Graph, byName map[string]*IndexEntry) *omexerr.Error {
	for i := range g.Nodes {
		n := &g.Nodes[i]
		for _, w := range n.Weights {
			e, ok := byName[w.Name]
			if !ok {
				return omexerr.Modelf("model.missing_tensor", "graph node %q needs weight %q, which the index does not list", n.ID, w.Name).WithFile(IndexFile).WithTensor(w.Name)
			}
			if e.DType != w.DType || !slices.Equal(e.Shape, w.Shape) {
				return omexerr.Modelf("model.tensor_mismatch", "graph node %q needs %s %v, the index has %s %v", n.ID, w.DType, w.Shape, e.DType, e.Shape).WithFile(IndexFile).WithTensor(w.Name)
			}
		}
	}
	return nil
}

// indexByName maps tensor names to their entries.
func indexByName(ix *Index) map[string]*IndexEntry {
	m := make(map[string]*IndexEntry, len(ix.Tensors))
	for i := range ix.Tensors {
		m[ix.Tensors[i].Name] = &ix.Tensors[i]
	}
	return m
}
