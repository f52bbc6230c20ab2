// Command kube-apiserver-for-tests runs a real kube-apiserver (k8s.io/kubernetes, built from Go modules) with
// an embedded etcd on loopback, for nodeqos's integration tests and `scripts/run kube-apiserver`.
//
// It generates its own PKI (a CA, a serving certificate for 127.0.0.1/localhost, an admin client certificate in
// system:masters and a service-account signing key), starts etcd, starts kube-apiserver with RBAC authorization and
// ServiceAccount token issuing, applies the CRDs it is given, waits until they are Established and published in
// /openapi/v3, writes a kubeconfig, and prints one JSON line on stdout:
//
//	{"ready":true,"kubeconfig":"...","server":"https://127.0.0.1:PORT","dir":"...","startupMs":N}
//
// It stops on SIGINT/SIGTERM (kube-apiserver's own signal handler drives the graceful shutdown), then stops etcd
// and removes its data directory. With --exit-on-stdin-close it also stops when its parent goes away.
//
// This is test infrastructure: never part of the nodeqos image.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "time/tzdata" // as upstream cmd/kube-apiserver: time zone data for CronJob

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // as upstream: JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // as upstream: client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // as upstream: version metric
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

type options struct {
	dir              string
	keepDir          bool
	crdPaths         string
	port             int
	kubeconfig       string
	exitOnStdinClose bool
	readyTimeout     time.Duration
}

func main() {
	opts := options{}
	fs := flag.NewFlagSet("kube-apiserver-for-tests", flag.ExitOnError)
	fs.StringVar(&opts.dir, "dir", "", "data directory (PKI, etcd data, kubeconfig); a new temporary one when empty")
	fs.BoolVar(&opts.keepDir, "keep-dir", false, "keep the data directory on exit")
	fs.StringVar(&opts.crdPaths, "crds", "", "comma-separated CRD YAML files or directories to apply once ready")
	fs.IntVar(&opts.port, "port", 0, "secure port on 127.0.0.1 (0 = a free port)")
	fs.StringVar(&opts.kubeconfig, "kubeconfig", "", "where to write the admin kubeconfig (default <dir>/kubeconfig)")
	fs.BoolVar(&opts.exitOnStdinClose, "exit-on-stdin-close", false, "shut down when stdin reaches EOF (the parent died)")
	fs.DurationVar(&opts.readyTimeout, "ready-timeout", 3*time.Minute, "how long to wait for readiness, CRDs included")
	// Everything after "--" goes to kube-apiserver unchanged (e.g. -- --v=4).
	args := os.Args[1:]
	var extra []string
	for i, a := range args {
		if a == "--" {
			extra = args[i+1:]
			args = args[:i]
			break
		}
	}
	_ = fs.Parse(args)
	os.Exit(run(opts, extra))
}

func run(opts options, extra []string) int {
	started := time.Now()
	if opts.dir == "" {
		d, err := os.MkdirTemp("", "nodeqos-kube-apiserver-")
		if err != nil {
			return fail("data directory: %v", err)
		}
		opts.dir = d
	} else if err := os.MkdirAll(opts.dir, 0o700); err != nil {
		return fail("data directory: %v", err)
	}
	if !opts.keepDir {
		// Removal runs after kube-apiserver and etcd have stopped.
		defer os.RemoveAll(opts.dir)
	}
	if opts.kubeconfig == "" {
		opts.kubeconfig = filepath.Join(opts.dir, "kubeconfig")
	}

	port := opts.port
	if port == 0 {
		p, err := freePort()
		if err != nil {
			return fail("port: %v", err)
		}
		port = p
	}
	pki, err := writePKI(filepath.Join(opts.dir, "pki"))
	if err != nil {
		return fail("pki: %v", err)
	}
	etcd, err := startEtcd(filepath.Join(opts.dir, "etcd"))
	if err != nil {
		return fail("etcd: %v", err)
	}
	defer etcd.stop()

	server := fmt.Sprintf("https://127.0.0.1:%d", port)
	apiArgs := apiserverArgs(port, etcd.clientURL, pki, server)
	apiArgs = append(apiArgs, extra...)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if opts.exitOnStdinClose {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			// kube-apiserver's handler turns the first SIGTERM into a graceful shutdown.
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}()
	}
	go func() {
		if err := becomeReady(ctx, server, pki, opts); err != nil {
			fmt.Fprintf(os.Stderr, "kube-apiserver-for-tests: not ready: %v\n", err)
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
			return
		}
		line, _ := json.Marshal(map[string]any{
			"ready":      true,
			"kubeconfig": opts.kubeconfig,
			"server":     server,
			"dir":        opts.dir,
			"startupMs":  time.Since(started).Milliseconds(),
		})
		fmt.Println(string(line))
	}()

	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(apiArgs)
	code := cli.Run(cmd)
	cancel()
	return code
}

func apiserverArgs(port int, etcdURL string, pki *pkiFiles, server string) []string {
	return []string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--etcd-servers=" + etcdURL,
		"--tls-cert-file=" + pki.servingCert,
		"--tls-private-key-file=" + pki.servingKey,
		"--client-ca-file=" + pki.caCert,
		"--authorization-mode=RBAC",
		// TokenRequest needs an issuer and a signing key; one private key serves as both key flags.
		"--service-account-issuer=" + server + "/",
		"--service-account-key-file=" + pki.saKey,
		"--service-account-signing-key-file=" + pki.saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		// Without kube-controller-manager no namespace gets a "default" ServiceAccount, so the admission plugin
		// that requires one would refuse every Pod (envtest disables it for the same reason).
		"--disable-admission-plugins=ServiceAccount",
		"--profiling=false",
		"--cert-dir=" + filepath.Dir(pki.caCert),
	}
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "kube-apiserver-for-tests: "+format+"\n", args...)
	return 1
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
