package config

import (
	"bufio"
	"fmt"
	"io"
)

// WriteTOML writes the effective configuration as TOML, every key with a
// comment saying where its value came from (default, file or env). Secret
// values are written as "<set>" (or "" when unset), never as themselves.
func (c *Config) WriteTOML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if c.File != "" {
		fmt.Fprintf(bw, "# configuration file: %s\n", c.File)
	} else {
		fmt.Fprintf(bw, "# no configuration file: defaults and environment only\n")
	}
	sec := ""
	for _, k := range allKeys {
		if k.section != sec {
			sec = k.section
			fmt.Fprintf(bw, "\n[%s]\n", sec)
		}
		v := k.tomlValue(c)
		if k.secret && k.field(c).String() != "" {
			v = `"<set>"`
		}
		src := string(c.Source(k.full))
		if src == string(FromEnv) {
			src += " " + k.envName()
		}
		fmt.Fprintf(bw, "%s = %s  # %s\n", k.name, v, src)
	}
	return bw.Flush()
}
