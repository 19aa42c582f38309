package hf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMeta(t *testing.T) {
	cases := []struct{ nameOrPath, readme, wantName, wantLicense string }{
		{"org/Model-1B", "---\nlanguage: en\nlicense: apache-2.0\ntags:\n- x\n---\n# Model\nlicense: mit\n", "org/Model-1B", "apache-2.0"},
		{"/home/me/checkpoints/My-Model", "# no front matter\nlicense: mit\n", "My-Model", ""},
		{"", "---\nlicense: \"mit\"\n---\n", "", "mit"},
	}
	for _, tc := range cases {
		cfg := smallConfig()
		cfg["architectures"] = []string{"MistralForCausalLM"}
		cfg["sliding_window"] = 32
		if tc.nameOrPath != "" {
			cfg["_name_or_path"] = tc.nameOrPath
		}
		dir := writeDir(t, cfg, checkpoint(cfg, "F32", false), nil)
		if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(tc.readme), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		meta := m.Meta()
		m.Close()
		want := tc.wantName
		if want == "" {
			want = filepath.Base(dir)
		}
		if meta.Name != want || meta.License != tc.wantLicense || meta.Architecture != "mistral" || meta.SourceFormat != "safetensors" {
			t.Errorf("meta %+v, want name %q license %q", meta, want, tc.wantLicense)
		}
		if !strings.Contains(meta.Description, "sliding_window 32") || m.Config().SeqLen != 32 {
			t.Errorf("sliding window not noted: %q, seq len %d", meta.Description, m.Config().SeqLen)
		}
	}
}
