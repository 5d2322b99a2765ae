// Command pulumi-language-python is this project's Python language host for the Pulumi engine.
//
// The engine starts a language host to run a project's program, and the CLI asks it for a few more things.
// Upstream's Python host lives in a Go module of its own that the Go module proxy does not serve, so this project
// builds this one instead, against the same pinned SDK (github.com/pulumi/pulumi/sdk/v3) and code generator
// (github.com/pulumi/pulumi/pkg/v3/codegen/python). It resolves a project's virtual environment from the
// `runtime.options` of Pulumi.yaml (pip, uv or poetry, through the SDK's python/toolchain package) and implements:
//
//	Run                     run the program with the SDK's pulumi-language-python-exec, in its own process group;
//	                        an interrupt (Cancel, or a signal to this host) ends it quietly          (run.go)
//	RunPlugin               policy packs (`python -m pulumi.policy`, behind the SDK's policy proxy, so stack
//	                        config reaches the pack) and plugins from source (PulumiPlugin.yaml)     (plugin.go)
//	GetRequiredPackages     the plugins that installed packages declare in a pulumi-plugin.json      (packages.go)
//	GenerateProgram         Python code from PCL: what `pulumi import` prints                        (codegen.go)
//	GeneratePackage         a Python SDK from a schema: `pulumi package gen-sdk --language python`   (codegen.go)
//	InstallDependencies     `pulumi install`; About and GetProgramDependencies: `pulumi about`
//	GetRequiredPlugins      none (deprecated by the engine in favour of GetRequiredPackages); Cancel
//
// Everything else answers "unimplemented", because nothing this project supports needs it: Handshake (the engine
// falls back to the address on the command line), GenerateProject (`pulumi convert`, `pulumi new` from PCL),
// RuntimeOptionsPrompts and Template (`pulumi new` prompts), Pack and Link (`pulumi package publish` and local SDK
// linking), and debugging. A `typechecker` runtime option is refused with a message saying so.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at build time (-ldflags "-X main.version=...") to the pinned Pulumi version.
var version = "0.0.0-dev"

// execScript is the SDK's program runner; the build installs it next to this binary.
const execScript = "pulumi-language-python-exec"

// healthInterval is how often the host checks that the engine is still there; it stops when the engine is gone
// (killed), so that neither it nor a program it runs outlives the engine for long.
const healthInterval = 10 * time.Second

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.String("tracing", "", "accepted for compatibility; tracing is not emitted")
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}
	engineAddress := ""
	if flag.NArg() > 0 {
		engineAddress = flag.Arg(0)
	}
	self, err := os.Executable()
	if err != nil {
		fail("cannot locate this executable: %v", err)
	}
	script := filepath.Join(filepath.Dir(self), execScript)
	if _, err := os.Stat(script); err != nil {
		fail("%s is missing next to %s: reinstall the engine (make install)", execScript, self)
	}

	// The engine ends a plugin by interrupting its process group; programs run in groups of their own, so the
	// host is the one that passes the interrupt on (see run.go).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, healthInterval, stop); err != nil {
			fail("cannot start the health check of the engine: %v", err)
		}
	}
	host := newHost(script, engineAddress)
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		host.interrupt()
		close(cancel)
	}()

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fail("cannot start the language host's gRPC server: %v", err)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	err = <-handle.Done
	// Nothing the host started outlives it: the engine kills the host's process group, which does not hold them.
	host.shutdown(shutdownGrace)
	if err != nil {
		fail("the language host stopped serving: %v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: "+format+"\n", args...)
	os.Exit(1)
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	script        string
	engineAddress string

	mu          sync.Mutex
	interrupted bool
	running     map[*program]struct{}
}

func newHost(script, engineAddress string) *host {
	return &host{script: script, engineAddress: engineAddress, running: map[*program]struct{}{}}
}

// options turns a program's runtime options (Pulumi.yaml `runtime.options`) into toolchain options. A plugin
// (a policy pack, or a plugin run from source) with neither a virtualenv nor a toolchain of its own uses `venv`
// beside it, as upstream's host does: plugins never run in the ambient Python.
func options(info *pulumirpc.ProgramInfo, plugin bool) (toolchain.PythonOptions, error) {
	if info == nil {
		return toolchain.PythonOptions{}, errors.New("the engine sent no program information")
	}
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory()}
	raw := info.GetOptions().AsMap()
	if v, ok := raw["virtualenv"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, fmt.Errorf("runtime option 'virtualenv' must be a string, got %T", v)
		}
		opts.Virtualenv = s
	}
	switch v := raw["toolchain"]; v {
	case nil, "", "auto":
		opts.Toolchain = toolchain.Auto
	case "pip":
		opts.Toolchain = toolchain.Pip
	case "uv":
		opts.Toolchain = toolchain.Uv
	case "poetry":
		opts.Toolchain = toolchain.Poetry
	default:
		return opts, fmt.Errorf("runtime option 'toolchain' must be one of pip, uv, poetry, got %v", v)
	}
	if v, ok := raw["typechecker"]; ok && v != "" && v != "none" {
		return opts, fmt.Errorf("runtime option 'typechecker' (%v) is not supported by this language host; "+
			"remove it from Pulumi.yaml and run the typechecker yourself", v)
	}
	if plugin && opts.Virtualenv == "" && (opts.Toolchain == toolchain.Auto || opts.Toolchain == toolchain.Pip) {
		opts.Virtualenv = "venv"
	}
	return opts, nil
}

func resolve(info *pulumirpc.ProgramInfo, plugin bool) (toolchain.Toolchain, error) {
	opts, err := options(info, plugin)
	if err != nil {
		return nil, err
	}
	return toolchain.ResolveToolchain(opts)
}

// GetRequiredPlugins is deprecated by the engine in favour of GetRequiredPackages (packages.go).
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// Cancel interrupts running programs; the engine calls it when the user cancels an update.
func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.interrupt()
	return &emptypb.Empty{}, nil
}

// InstallDependencies creates the virtual environment if needed and installs requirements into it
// (`pulumi install`), streaming the output to the engine.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	tc, err := resolve(req.GetInfo(), req.GetIsPlugin())
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	ctx := server.Context()
	dir := req.GetInfo().GetProgramDirectory()
	if err := tc.EnsureVenv(ctx, dir, req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return err
	}
	if err := tc.InstallDependencies(ctx, dir, req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return err
	}
	return closer.Close()
}

// About answers `pulumi about`: the interpreter and its version.
func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
	}, nil
}

// GetProgramDependencies lists the packages installed in the program's environment.
func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	deps, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	out := make([]*pulumirpc.DependencyInfo, 0, len(deps))
	for _, d := range deps {
		out = append(out, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: out}, nil
}
