package goasm

import "fmt"

// LayoutName is the name of the row-interleaved layout with lanes rows per
// group, as weight annotations carry it (`layout "interleave8"`); passes
// registers it for each target with assembly kernels.
func LayoutName(lanes int) string { return fmt.Sprintf("interleave%d", lanes) }
