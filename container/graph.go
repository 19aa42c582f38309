package container

import (
	"slices"

	"github.com/omex-dev/omex/omexerr"
)

// Order returns the node ids in an order where every node comes after its
// dependencies; among nodes free to go, the entry node first, then file
// order. It fails on a cycle or a missing dependency (Validate names them).
func (c *Container) Order() ([]string, error) {
	nodes := c.ExecutionGraph.Nodes
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		index[n.ID] = i
	}
	waiting := make([]int, len(nodes)) // dependencies not yet placed
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, d := range n.Dependencies {
			j, ok := index[d]
			if !ok {
				return nil, omexerr.Inputf("container.missing_dependency", "node %q depends on %q, which is not a node", n.ID, d)
			}
			waiting[i]++
			users[j] = append(users[j], i)
		}
	}
	var ready []int
	if e, ok := index[c.ExecutionGraph.EntryNode]; ok && waiting[e] == 0 {
		ready = append(ready, e)
	}
	for i := range nodes {
		if waiting[i] == 0 && nodes[i].ID != c.ExecutionGraph.EntryNode {
			ready = append(ready, i)
		}
	}
	var order []string
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		order = append(order, nodes[i].ID)
		for _, u := range users[i] {
			if waiting[u]--; waiting[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(order) != len(nodes) {
		return nil, omexerr.Inputf("container.cycle", "the execution graph has a dependency cycle")
	}
	return order, nil
}

// cycles returns each dependency cycle once, as the path of node ids from
// its smallest id back to itself (each node depends on the next).
// Dependencies on nodes that do not exist are ignored here.
func (c *Container) cycles() [][]string {
	nodes := c.ExecutionGraph.Nodes
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if _, dup := index[n.ID]; !dup {
			index[n.ID] = i
		}
	}
	const (
		unseen = iota
		onStack
		done
	)
	state := make([]int, len(nodes))
	var stack []int
	var found [][]string
	seen := map[string]bool{}
	var visit func(i int)
	visit = func(i int) {
		state[i] = onStack
		stack = append(stack, i)
		for _, d := range nodes[i].Dependencies {
			j, ok := index[d]
			if !ok {
				continue
			}
			switch state[j] {
			case unseen:
				visit(j)
			case onStack:
				at := slices.Index(stack, j)
				var path []string
				for _, k := range stack[at:] {
					path = append(path, nodes[k].ID)
				}
				path = rotateToSmallest(path)
				key := ""
				for _, p := range path {
					key += p + "\x00"
				}
				if !seen[key] {
					seen[key] = true
					found = append(found, append(path, path[0]))
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
	}
	for i := range nodes {
		if state[i] == unseen {
			visit(i)
		}
	}
	return found
}

func rotateToSmallest(path []string) []string {
	m := 0
	for i, p := range path {
		if p < path[m] {
			m = i
		}
	}
	return append(append([]string(nil), path[m:]...), path[:m]...)
}
