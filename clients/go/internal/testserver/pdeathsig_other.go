//go:build !linux

package testserver

import "os/exec"

// setParentDeathSignal does nothing where the kernel has no parent-death signal.
func setParentDeathSignal(*exec.Cmd) {}
