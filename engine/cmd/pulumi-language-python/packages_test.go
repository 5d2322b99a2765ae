package main

import "testing"

func TestPluginVersion(t *testing.T) {
	cases := map[string]string{
		"1":                "1.0.0",
		"1.2":              "1.2.0",
		"1.2.3":            "1.2.3",
		"1.2.3.4":          "1.2.3.4",
		"1.2.3a4":          "1.2.3-alpha.4",
		"1.2.3b4":          "1.2.3-beta.4",
		"1.2.3rc4":         "1.2.3-rc.4",
		"1.2.3.post4":      "1.2.3+post4",
		"1.2.3.dev5":       "1.2.3+dev5",
		"1.2.3.post4.dev5": "1.2.3+post4dev5",
		"1.2.3rc1.post4":   "1.2.3-rc.1+post4",
	}
	for in, want := range cases {
		got, ok := pluginVersion(in)
		if !ok || got != want {
			t.Errorf("pluginVersion(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "1!2.0", "1.0+local", "v1.0", "1.0-beta", "abc"} {
		if got, ok := pluginVersion(in); ok {
			t.Errorf("pluginVersion(%q) = %q; want no version", in, got)
		}
	}
}

func TestPackageDependency(t *testing.T) {
	dep, err := packageDependency(pluginFile{Distribution: "pulumi-random", Version: "4.16.0",
		JSON: `{"resource": true}`})
	if err != nil || dep == nil || dep.Name != "random" || dep.Version != "v4.16.0" || dep.Kind != "resource" {
		t.Fatalf("got %v, %v", dep, err)
	}
	dep, err = packageDependency(pluginFile{Distribution: "acme-sdk", Version: "0.1.0",
		JSON: `{"resource": true, "name": "acme", "version": "2.0.0", "server": "https://example.com"}`})
	if err != nil || dep.Name != "acme" || dep.Version != "v2.0.0" || dep.Server != "https://example.com" {
		t.Fatalf("got %v, %v", dep, err)
	}
	if dep, err = packageDependency(pluginFile{Distribution: "pulumi-policy", Version: "1.21.0",
		JSON: `{"resource": false}`}); err != nil || dep != nil {
		t.Fatalf("a package with resource=false declares no plugin, got %v, %v", dep, err)
	}
	if _, err = packageDependency(pluginFile{Distribution: "broken", Path: "/x/pulumi-plugin.json",
		JSON: `{"resource": tru`}); err == nil {
		t.Fatal("a broken pulumi-plugin.json must be an error naming the file")
	}
}
