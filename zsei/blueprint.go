package zsei

import (
	"fmt"
	"strings"
)

// Plan is the execution plan a blueprint is applied to. The engine's task
// graph implements it (or converts to and from NodeList).
type Plan interface {
	// Nodes lists the plan's nodes with their current dependencies and guidance.
	Nodes() []PlanNode
	// SetGuidance replaces node id's guidance text.
	SetGuidance(id, text string)
	// AddDependency makes node id wait for node dep.
	AddDependency(id, dep string)
}

// PlanNode is the part of a plan node a blueprint can see and change.
type PlanNode struct {
	ID           string
	Type         string
	Dependencies []string
	Guidance     string
}

// NodeList is a Plan held as a plain list.
type NodeList []PlanNode

// Nodes returns the list.
func (l *NodeList) Nodes() []PlanNode { return *l }

// SetGuidance sets a node's guidance.
func (l *NodeList) SetGuidance(id, text string) {
	for i := range *l {
		if (*l)[i].ID == id {
			(*l)[i].Guidance = text
		}
	}
}

// AddDependency adds a dependency to a node.
func (l *NodeList) AddDependency(id, dep string) {
	for i := range *l {
		if (*l)[i].ID == id {
			(*l)[i].Dependencies = append((*l)[i].Dependencies, dep)
		}
	}
}

// ApplyReport says what applying a blueprint did, for the run record.
type ApplyReport struct {
	Applied []string `json:"applied"` // e.g. `node "parse": guidance added`
	Skipped []string `json:"skipped"` // steps that matched nothing or would break the plan
}

// ApplyBlueprint adds each step's guidance to the nodes it names (after
// any guidance they already carry) and the ordering it asks for. A step
// naming no node of the plan, or an ordering that would make a cycle, is
// skipped and reported: a blueprint can advise the plan, never break it.
func ApplyBlueprint(p Plan, bp Blueprint) ApplyReport {
	rep := ApplyReport{Applied: []string{}, Skipped: []string{}}
	nodes := p.Nodes()
	byID := map[string]int{}
	deps := map[string][]string{}
	for i, n := range nodes {
		byID[n.ID] = i
		deps[n.ID] = append([]string(nil), n.Dependencies...)
	}
	added := map[string][]string{}
	for i, s := range bp.Steps {
		var targets []string
		if s.Node != "" {
			if _, ok := byID[s.Node]; ok {
				targets = []string{s.Node}
			}
		} else {
			for _, n := range nodes {
				if n.Type == s.NodeType {
					targets = append(targets, n.ID)
				}
			}
		}
		if len(targets) == 0 {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("step %d: the plan has no node %s", i, stepTarget(s)))
			continue
		}
		for _, id := range targets {
			added[id] = append(added[id], s.Guidance)
			rep.Applied = append(rep.Applied, fmt.Sprintf("node %q: guidance added", id))
			for _, dep := range s.After {
				if _, ok := byID[dep]; !ok {
					rep.Skipped = append(rep.Skipped, fmt.Sprintf("step %d: %q cannot wait for unknown node %q", i, id, dep))
					continue
				}
				switch {
				case contains(deps[id], dep):
					// Already ordered.
				case dep == id || reaches(deps, dep, id):
					rep.Skipped = append(rep.Skipped, fmt.Sprintf("step %d: %q waiting for %q would make a cycle", i, id, dep))
				default:
					deps[id] = append(deps[id], dep)
					p.AddDependency(id, dep)
					rep.Applied = append(rep.Applied, fmt.Sprintf("node %q: now waits for %q", id, dep))
				}
			}
		}
	}
	for _, n := range nodes {
		if texts := added[n.ID]; len(texts) > 0 {
			all := texts
			if n.Guidance != "" {
				all = append([]string{n.Guidance}, texts...)
			}
			p.SetGuidance(n.ID, strings.Join(all, "\n"))
		}
	}
	return rep
}

func stepTarget(s Step) string {
	if s.Node != "" {
		return fmt.Sprintf("%q", s.Node)
	}
	return fmt.Sprintf("of type %q", s.NodeType)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// reaches reports whether from depends, directly or not, on to.
func reaches(deps map[string][]string, from, to string) bool {
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == to {
			return true
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, deps[n]...)
	}
	return false
}
