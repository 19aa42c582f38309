// Package testmodels holds, one subpackage per modelset.Models entry, the
// generated decode schedules of real models, which their tests run against
// the IR interpreter bit for bit. Regenerate them with `go generate` here
// (it needs the shared test models beside the repository).
package testmodels

//go:generate go run ../genmodels
