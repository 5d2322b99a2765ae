package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// pluginFilesScript prints, as JSON, the pulumi-plugin.json of every installed distribution that ships one at the
// top of one of its packages: from the files its RECORD lists, and, for editable installs (whose RECORD lists no
// package files), from its top-level packages as importlib finds them, without importing them. A file nested
// deeper in a package does not count: it describes a subpackage, not the distribution.
const pluginFilesScript = `import importlib.metadata as md, importlib.util, json, os
found = []
for dist in md.distributions():
    paths = set()
    for f in dist.files or ():
        if len(f.parts) == 2 and f.parts[1] == "pulumi-plugin.json":
            paths.add(os.path.realpath(dist.locate_file(f)))
    for top in (dist.read_text("top_level.txt") or "").split():
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        for where in (spec.submodule_search_locations or []) if spec else []:
            path = os.path.join(where, "pulumi-plugin.json")
            if os.path.isfile(path):
                paths.add(os.path.realpath(path))
    for path in sorted(paths):
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        found.append({"distribution": dist.metadata["Name"], "version": dist.version, "path": path, "json": text})
print(json.dumps(found))
`

type pluginFile struct {
	Distribution string `json:"distribution"`
	Version      string `json:"version"`
	Path         string `json:"path"`
	JSON         string `json:"json"`
}

// GetRequiredPackages reports the plugins that the program's installed packages declare in a pulumi-plugin.json
// (`"resource": true`), so the engine has them before the program runs. Like upstream's host it first creates
// the program's virtual environment when it does not exist yet (installing its requirements), with the output
// shown by the engine. Unlike upstream's, a distribution whose name merely starts with "pulumi-" does not count
// as a plugin: this project's own `pulumi-mistral-connectors` has no plugin of that name.
func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	tc, err := resolve(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	stdout, stderr, closeLog := h.engineLog(ctx)
	defer closeLog()
	if err := tc.EnsureVenv(ctx, req.GetInfo().GetProgramDirectory(), false, true, stdout, stderr); err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", pluginFilesScript)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return nil, fmt.Errorf("listing the plugins of installed packages failed: %s", exitErr.Stderr)
		}
		return nil, fmt.Errorf("listing the plugins of installed packages failed: %w", err)
	}
	var files []pluginFile
	if err := json.Unmarshal(out, &files); err != nil {
		return nil, fmt.Errorf("listing the plugins of installed packages printed something unexpected: %w", err)
	}
	var packages []*pulumirpc.PackageDependency
	for _, f := range files {
		dep, err := packageDependency(f)
		if err != nil {
			return nil, err
		}
		if dep != nil {
			packages = append(packages, dep)
		}
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// packageDependency is the plugin a pulumi-plugin.json declares, or nil: `"resource": false`, or no version
// that a plugin version can be derived from (upstream skips those too).
func packageDependency(f pluginFile) (*pulumirpc.PackageDependency, error) {
	var p plugin.PulumiPluginJSON
	if err := json.Unmarshal([]byte(f.JSON), &p); err != nil {
		return nil, fmt.Errorf("%s (of the installed package %s) is not valid: %w", f.Path, f.Distribution, err)
	}
	if !p.Resource {
		return nil, nil
	}
	name := p.Name
	if name == "" {
		name = strings.TrimPrefix(strings.ToLower(f.Distribution), "pulumi-")
	}
	version := p.Version
	if version == "" {
		v, ok := pluginVersion(f.Version)
		if !ok {
			return nil, nil
		}
		version = v
	}
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	dep := &pulumirpc.PackageDependency{Name: name, Version: version, Kind: "resource", Server: p.Server}
	if q := p.Parameterization; q != nil {
		dep.Parameterization = &pulumirpc.PackageParameterization{Name: q.Name, Version: q.Version, Value: q.Value}
	}
	if q := p.ExtensionParameterization; q != nil {
		dep.Extension = &pulumirpc.PackageParameterization{Name: q.Name, Version: q.Version, Value: q.Value}
	}
	return dep, nil
}

var pep440 = regexp.MustCompile(`^(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?$`)

// pluginVersion turns a PEP 440 package version into the plugin's semantic version, as upstream's host does:
// at least three release numbers (1.0 -> 1.0.0), a1/b1/rc1 -> -alpha.1/-beta.1/-rc.1, .post1 -> +post1,
// .dev1 -> +dev1 (+post1dev1 with both). Epochs and local versions have no plugin version (false).
func pluginVersion(v string) (string, bool) {
	m := pep440.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	release := strings.Split(m[1], ".")
	for len(release) < 3 {
		release = append(release, "0")
	}
	out := strings.Join(release, ".")
	if m[2] != "" {
		out += "-" + map[string]string{"a": "alpha", "b": "beta", "rc": "rc"}[m[2]] + "." + m[3]
	}
	switch {
	case m[4] != "" && m[5] != "":
		out += "+post" + m[4] + "dev" + m[5]
	case m[4] != "":
		out += "+post" + m[4]
	case m[5] != "":
		out += "+dev" + m[5]
	}
	return out, true
}

// engineLog gives writers whose lines the engine shows (ephemeral info and error messages), and a function that
// closes the connection. Without an engine address they are this process's stdout and stderr.
func (h *host) engineLog(ctx context.Context) (io.Writer, io.Writer, func()) {
	if h.engineAddress == "" {
		return os.Stdout, os.Stderr, func() {}
	}
	conn, err := grpc.NewClient(h.engineAddress, grpc.WithTransportCredentials(insecure.NewCredentials()),
		rpcutil.GrpcChannelOptions())
	if err != nil {
		return os.Stdout, os.Stderr, func() {}
	}
	engine := pulumirpc.NewEngineClient(conn)
	stream := rand.Int32() //nolint:gosec // a stream id, not a secret
	writer := func(severity pulumirpc.LogSeverity) io.Writer {
		return streamWriter(func(b []byte) error {
			_, err := engine.Log(ctx, &pulumirpc.LogRequest{
				Severity: severity, Message: strings.ToValidUTF8(string(b), "\uFFFD"), Ephemeral: true,
				StreamId: stream,
			})
			return err
		})
	}
	return writer(pulumirpc.LogSeverity_INFO), writer(pulumirpc.LogSeverity_ERROR), func() { _ = conn.Close() }
}

// streamWriter is an io.Writer over a function that sends one chunk.
type streamWriter func([]byte) error

func (w streamWriter) Write(p []byte) (int, error) {
	if err := w(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
