package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// exitShownToUser is the exec script's exit code for "an error was already shown to the user"; the runner below
// uses it for a program that stopped because it was interrupted (the engine says "update canceled" itself).
const exitShownToUser = 32

// stopGrace is how long an interrupted process group gets to end before it is killed.
const stopGrace = 5 * time.Second

// shutdownGrace is how long the host, once it stops serving, waits for what it started to end before it kills
// it: less than the 5 s the engine gives the host itself before killing the host's group.
const shutdownGrace = 2 * time.Second

// runner starts the SDK's exec script. Its arguments: the program's entry point (absolute), then the exec
// script's path and arguments.
//   - The host passes an interrupt on to the program as SIGINT once the engine has cancelled (Cancel) or is
//     shutting the host down. Python's default would raise KeyboardInterrupt wherever the program happens to be
//     and print its traceback under the engine's "update canceled"; an exception of any kind would also send the
//     SDK's runtime to wait for its calls to the engine, which has stopped answering, and print "Resource monitor
//     has terminated". The engine has given up on the program by then, so it ends at once and quietly, with the
//     exit code that says its story was already told.
//   - A syntax error in the entry point is reported as Python reports it (file, line, caret, message). The exec
//     script would show it under a traceback of its own frames and runpy's, since no frame of the program exists.
//   - sys.path[0] is the exec script's directory, as when Python runs the script itself.
const runner = `import os, runpy, signal, sys, traceback
def _stop(signum, frame):
    sys.stdout.flush(); sys.stderr.flush(); os._exit(32)
signal.signal(signal.SIGINT, _stop)
entry = sys.argv[1]
del sys.argv[:2]
main = os.path.join(entry, "__main__.py") if os.path.isdir(entry) else entry
try:
    with open(main, "rb") as f:
        compile(f.read(), main, "exec")
except SyntaxError as e:
    print("error: Program failed with a syntax error:\n" + "".join(traceback.format_exception_only(e)).rstrip(),
          file=sys.stderr, flush=True)
    sys.exit(32)
except (OSError, ValueError):
    pass  # a missing or unreadable program: the exec script says so
sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name="__main__")
`

var errInterrupted = errors.New("interrupted")

// program is a process the host started (a program or a plugin), alone in its own process group: the engine
// interrupts the host's group when it shuts the host down, and the host decides how the program ends.
type program struct {
	cmd         *exec.Cmd
	done        chan struct{}
	once        sync.Once
	interrupted bool
}

// start starts cmd in a process group of its own, unless the host was interrupted already.
func (h *host) start(cmd *exec.Cmd) (*program, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &program{cmd: cmd, done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.interrupted {
		return nil, errInterrupted
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	h.running[p] = struct{}{}
	return p, nil
}

// watch interrupts p when ctx ends first (the engine dropped the call); finish stops watching.
func (h *host) watch(ctx context.Context, p *program) {
	go func() {
		select {
		case <-ctx.Done():
			h.mu.Lock()
			p.stop()
			h.mu.Unlock()
		case <-p.done:
		}
	}()
}

func (h *host) finish(p *program) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.running, p)
	close(p.done)
}

// execute starts cmd, waits for it, and interrupts it when ctx ends first. It reports whether the host
// interrupted it.
func (h *host) execute(ctx context.Context, cmd *exec.Cmd) (bool, error) {
	p, err := h.start(cmd)
	if err != nil {
		return errors.Is(err, errInterrupted), err
	}
	h.watch(ctx, p)
	err = cmd.Wait()
	h.mu.Lock()
	interrupted := p.interrupted
	h.mu.Unlock()
	h.finish(p)
	return interrupted, err
}

// stop passes an interrupt on to the program's process group, and kills the group if it is still there after
// stopGrace. Called with h.mu held.
func (p *program) stop() {
	p.once.Do(func() {
		p.interrupted = true
		pid := p.cmd.Process.Pid
		_ = syscall.Kill(-pid, syscall.SIGINT)
		go func() {
			select {
			case <-time.After(stopGrace):
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			case <-p.done:
			}
		}()
	})
}

// shutdown interrupts what still runs (a policy pack whose RunPlugin call the engine cancelled may still be
// ending), waits up to grace for it to end, and kills the process groups of whatever is left.
func (h *host) shutdown(grace time.Duration) {
	h.interrupt()
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		left := len(h.running)
		h.mu.Unlock()
		if left == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for p := range h.running {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// interrupt stops every running program and refuses new ones: the engine cancelled, or the host was signalled.
func (h *host) interrupt() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.interrupted = true
	for p := range h.running {
		p.stop()
	}
}

// Run runs the program once with the exec script, in the program's virtual environment.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	tc, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	env, err := configEnv(req)
	if err != nil {
		return nil, err
	}
	args := append([]string{"-u", "-c", runner, entryPath(req), h.script}, runArgs(h.engineAddress, req)...)
	// Not bound to ctx: the host ends the program itself, with an interrupt first (execute).
	cmd, err := tc.Command(context.WithoutCancel(ctx), args...)
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, env...)
	// The engine shows what the program prints: stdout as info, stderr as errors.
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr

	interrupted, err := h.execute(ctx, cmd)
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case interrupted:
		return &pulumirpc.RunResponse{Bail: true}, nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if exitErr.ExitCode() == exitShownToUser {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d",
			exitErr.ExitCode())}, nil
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Python program: %v", err)}, nil
}

// configEnv is the stack configuration for the exec script. A stack without any config still gets `{}`: the SDK
// reads PULUMI_CONFIG with `.items()`, and `null` (what a nil map encodes to) crashed every such program.
func configEnv(req *pulumirpc.RunRequest) ([]string, error) {
	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the stack configuration: %w", err)
	}
	keysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the secret configuration keys: %w", err)
	}
	return []string{"PULUMI_CONFIG=" + string(configJSON), "PULUMI_CONFIG_SECRET_KEYS=" + string(keysJSON)}, nil
}

// entryPath is the program's entry point as an absolute path (the exec script resolves it against --pwd).
func entryPath(req *pulumirpc.RunRequest) string {
	entry := req.GetInfo().GetEntryPoint()
	if filepath.IsAbs(entry) {
		return entry
	}
	base := req.GetPwd()
	if base == "" {
		base = req.GetInfo().GetProgramDirectory()
	}
	return filepath.Join(base, entry)
}

// runArgs are the exec script's flags, then the entry point and the program's own arguments.
func runArgs(engineAddress string, req *pulumirpc.RunRequest) []string {
	var args []string
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", engineAddress)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	return append(append(args, entry), req.GetArgs()...)
}
