package zsei

import "testing"

// FuzzDecodeGuidance: any answer decodes to guidance that keeps the
// protocol's rules, or to an error; never a panic. Accepted guidance can
// be applied to a plan without breaking it.
func FuzzDecodeGuidance(f *testing.F) {
	f.Add([]byte(goodGuidance))
	f.Add([]byte(`{"framework":"f","execution_blueprint":{"steps":[]}}`))
	f.Add([]byte(`{"framework":"f","execution_blueprint":{"steps":[{"node":"a","guidance":"g","after":["a","b"]}]},"validation_criteria":null}`))
	f.Add([]byte(`{"framework":7}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeGuidance(b)
		if err != nil {
			return
		}
		if g.Framework == "" || g.ValidationCriteria == nil {
			t.Fatalf("accepted %+v", g)
		}
		for _, s := range g.ExecutionBlueprint.Steps {
			if s.Guidance == "" || (s.Node == "" && s.NodeType == "") {
				t.Fatalf("accepted step %+v", s)
			}
		}
		p := plan()
		ApplyBlueprint(p, g.ExecutionBlueprint)
		deps := map[string][]string{}
		for _, n := range *p {
			deps[n.ID] = n.Dependencies
		}
		for _, n := range *p {
			for _, d := range n.Dependencies {
				if reaches(deps, d, n.ID) {
					t.Fatalf("blueprint made a cycle through %s: %+v", n.ID, *p)
				}
			}
		}
	})
}
