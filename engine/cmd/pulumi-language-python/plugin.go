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
	"strings"
	"syscall"
	"time"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// RunPlugin runs a plugin written in Python, as upstream's host does:
//   - a policy pack (`pulumi preview --policy-pack DIR`, kind "analyzer"): `python -u -m pulumi.policy ARGS DIR`
//     in the pack's directory and virtual environment. The SDK's policy proxy answers the engine first, so that
//     the stack's project, stack name and config reach the pack as PULUMI_* variables, then hands the
//     connection over to the pack;
//   - any other plugin from source (a directory with PulumiPlugin.yaml, `runtime: python`): its `__main__.py`
//     (`python DIR ARGS`), or else `python -m pulumi.run.plugin NAME ARGS` for a buildable pyproject.toml.
//
// The plugin's output streams back to the engine, which reads the plugin's port from its first line.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	analyzer := req.GetKind() == string(apitype.AnalyzerPlugin)
	// A plugin without runtime options uses `venv` beside it; a policy pack names its environment (or has none).
	tc, err := resolve(req.GetInfo(), !analyzer)
	if err != nil {
		return err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return fmt.Errorf("the plugin in %s has no usable virtual environment (%w); create it with `pulumi "+
			"install` in that directory, or set runtime.options.virtualenv in its Pulumi*.yaml",
			req.GetInfo().GetProgramDirectory(), err)
	}
	cmd, err := pluginCommand(context.WithoutCancel(ctx), tc, req, analyzer)
	if err != nil {
		return err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	var proxy *sdk.PolicyProxy
	if analyzer {
		// Policy packs have always run in their own directory.
		cmd.Dir = req.GetInfo().GetProgramDirectory()
		if proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout); err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		config, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get the stack configuration for the policy pack: %w", err)
		}
		stackEnv, err := policyEnv(config)
		if err != nil {
			return err
		}
		cmd.Env = append(cmd.Env, stackEnv...)
	} else {
		cmd.Dir = req.GetPwd()
	}
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr

	p, err := h.start(cmd)
	if err != nil {
		if proxy != nil {
			proxy.Abort(err)
		}
		return fmt.Errorf("could not start the plugin in %s: %w", req.GetInfo().GetProgramDirectory(), err)
	}
	h.watch(ctx, p)
	if proxy != nil {
		// Attach returns when the pack exits, or as soon as the engine cancels this call: the pack, interrupted
		// by watch, may still be ending then. It stays among the running (and is killed after stopGrace) until
		// it has exited, so a host shutting down meanwhile still waits for it, or kills it.
		err = proxy.Attach(ctx, cmd)
		awaitExit(cmd.Process.Pid, stopGrace+time.Second)
	} else {
		err = cmd.Wait()
	}
	h.finish(p)

	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return server.Send(&pulumirpc.RunPluginResponse{
			Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exitErr.ExitCode())},
		})
	}
	if err != nil {
		return fmt.Errorf("the plugin in %s failed: %w", req.GetInfo().GetProgramDirectory(), err)
	}
	return closer.Close()
}

// pluginCommand is the Python command line of a plugin (see RunPlugin).
func pluginCommand(
	ctx context.Context, tc toolchain.Toolchain, req *pulumirpc.RunPluginRequest, analyzer bool,
) (*exec.Cmd, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if analyzer {
		// The pack's directory comes last, after the engine's arguments.
		return tc.Command(ctx, append(append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...), dir)...)
	}
	root := req.GetInfo().GetRootDirectory()
	if _, err := os.Stat(filepath.Join(root, "__main__.py")); err == nil || !hasModule(ctx, tc, "pulumi.run.plugin") {
		return tc.Command(ctx, append([]string{dir}, req.GetArgs()...)...)
	}
	buildable, err := toolchain.IsBuildablePackage(root)
	if err != nil {
		return nil, fmt.Errorf("reading the plugin's pyproject.toml: %w", err)
	}
	if !buildable {
		return nil, fmt.Errorf("the plugin in %s cannot be run: it has neither a __main__.py nor a buildable "+
			"pyproject.toml", root)
	}
	project, err := toolchain.LoadPyproject(root)
	if err != nil {
		return nil, fmt.Errorf("reading the plugin's pyproject.toml: %w", err)
	}
	return tc.ModuleCommand(ctx, "pulumi.run.plugin", append([]string{project.Project.Name}, req.GetArgs()...)...)
}

func hasModule(ctx context.Context, tc toolchain.Toolchain, module string) bool {
	cmd, err := tc.Command(ctx, "-c", "import "+module)
	if err != nil {
		return false
	}
	out, err := cmd.CombinedOutput()
	return err == nil || !strings.Contains(string(out), "ModuleNotFoundError")
}

// policyEnv is what `pulumi.policy` reads of the stack it checks (the SDK's runtime settings).
func policyEnv(config *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	if config == nil {
		return nil, nil
	}
	var env []string
	add := func(key, value string) {
		if value != "" {
			env = append(env, key+"="+value)
		}
	}
	add("PULUMI_ORGANIZATION", config.GetOrganization())
	add("PULUMI_PROJECT", config.GetProject())
	add("PULUMI_STACK", config.GetStack())
	add("PULUMI_DRY_RUN", strconv.FormatBool(config.GetDryRun()))
	if config.GetConfig() != nil {
		encoded, err := json.Marshal(config.GetConfig())
		if err != nil {
			return nil, fmt.Errorf("cannot encode the stack configuration for the policy pack: %w", err)
		}
		add("PULUMI_CONFIG", string(encoded))
	}
	return env, nil
}

// awaitExit waits up to limit for process pid, which another goroutine waits for (and so reaps), to be gone.
func awaitExit(pid int, limit time.Duration) {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
}
