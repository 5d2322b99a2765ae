//go:build tools

// Package tools pins the Pulumi CLI this project builds: `go build` of the package below, at the version
// required in go.mod, is the engine the tests and the demo run.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
