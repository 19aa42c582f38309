package main

import (
	_ "github.com/dlclark/regexp2"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/term"
	_ "golang.org/x/text/unicode/norm"
)

func main() {}
