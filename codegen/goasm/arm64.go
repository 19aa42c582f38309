package goasm

func emitARM64(m MatVec) string { return "" }
