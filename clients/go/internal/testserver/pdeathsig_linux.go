package testserver

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has the kernel send the server SIGINT if the test binary dies without
// stopping it (a panic, `go test -timeout`), so no server and PostgreSQL are left behind.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT}
}
