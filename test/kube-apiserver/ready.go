package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

// becomeReady waits for /readyz and the default namespace, applies the CRDs, waits until each is Established
// and its group-version is in /openapi/v3 (kubectl explain and client-side validation read it), then writes
// the kubeconfig. Only then is the server announced as ready.
func becomeReady(ctx context.Context, server string, pki *pkiFiles, opts options) error {
	ctx, cancel := context.WithTimeout(ctx, opts.readyTimeout)
	defer cancel()
	cfg := &rest.Config{
		Host:            server,
		TLSClientConfig: rest.TLSClientConfig{CAFile: pki.caCert, CertFile: pki.adminCert, KeyFile: pki.adminKey},
		QPS:             100,
		Burst:           200,
	}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := poll(ctx, "readyz", func() (bool, error) {
		body, err := core.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	}); err != nil {
		return err
	}
	if err := poll(ctx, "namespace default", func() (bool, error) {
		_, err := core.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		return err
	}
	crds, err := readCRDs(splitList(opts.crdPaths))
	if err != nil {
		return err
	}
	ext, err := apiextensions.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for _, crd := range crds {
		if err := applyCRD(ctx, ext, crd); err != nil {
			return err
		}
	}
	for _, crd := range crds {
		if err := waitCRD(ctx, ext, core, crd); err != nil {
			return err
		}
	}
	return writeKubeconfig(opts.kubeconfig, server, pki)
}

func poll(ctx context.Context, what string, check func() (bool, error)) error {
	for {
		ok, err := check()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func readCRDs(paths []string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if n := e.Name(); !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				files = append(files, filepath.Join(p, n))
			}
		}
	}
	sort.Strings(files)
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for i, doc := range strings.Split(string(raw), "\n---") {
			if strings.TrimSpace(strings.TrimPrefix(doc, "---")) == "" {
				continue
			}
			js, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil || string(js) == "null" {
				if err == nil {
					continue // a document of comments only
				}
				return nil, fmt.Errorf("%s document %d: %w", f, i, err)
			}
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := json.Unmarshal(js, crd); err != nil {
				return nil, fmt.Errorf("%s document %d: %w", f, i, err)
			}
			if crd.Kind != "CustomResourceDefinition" {
				return nil, fmt.Errorf("%s document %d: kind %q is not a CustomResourceDefinition", f, i, crd.Kind)
			}
			out = append(out, crd)
		}
	}
	return out, nil
}

func applyCRD(ctx context.Context, ext apiextensions.Interface, crd *apiextensionsv1.CustomResourceDefinition) error {
	api := ext.ApiextensionsV1().CustomResourceDefinitions()
	_, err := api.Create(ctx, crd, metav1.CreateOptions{FieldManager: "kube-apiserver-for-tests"})
	if apierrors.IsAlreadyExists(err) {
		// A kept data directory: replace the stored definition with the one on disk.
		old, gerr := api.Get(ctx, crd.Name, metav1.GetOptions{})
		if gerr != nil {
			return gerr
		}
		crd.ResourceVersion = old.ResourceVersion
		_, err = api.Update(ctx, crd, metav1.UpdateOptions{FieldManager: "kube-apiserver-for-tests"})
	}
	if err != nil {
		return fmt.Errorf("CRD %s: %w", crd.Name, err)
	}
	return nil
}

func waitCRD(ctx context.Context, ext apiextensions.Interface, core kubernetes.Interface, crd *apiextensionsv1.CustomResourceDefinition) error {
	api := ext.ApiextensionsV1().CustomResourceDefinitions()
	if err := poll(ctx, "CRD "+crd.Name+" Established", func() (bool, error) {
		got, err := api.Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		return err
	}
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		// Right after Established, requests get 429 "storage is (re)initializing" until the resource's storage
		// and watch cache are up; a test's first list must not see that.
		list := "/apis/" + crd.Spec.Group + "/" + v.Name + "/" + crd.Spec.Names.Plural
		if err := poll(ctx, "list "+list, func() (bool, error) {
			_, err := core.Discovery().RESTClient().Get().AbsPath(list).Param("limit", "1").DoRaw(ctx)
			return err == nil, nil
		}); err != nil {
			return err
		}
		gv := "apis/" + crd.Spec.Group + "/" + v.Name
		if err := poll(ctx, "/openapi/v3 "+gv+" has "+crd.Spec.Names.Kind, func() (bool, error) {
			body, err := core.Discovery().RESTClient().Get().AbsPath("/openapi/v3/" + gv).DoRaw(ctx)
			return err == nil && strings.Contains(string(body), "."+crd.Spec.Names.Kind+"\""), nil
		}); err != nil {
			return err
		}
	}
	return nil
}

func writeKubeconfig(path, server string, pki *pkiFiles) error {
	read := func(p string) ([]byte, error) { return os.ReadFile(p) }
	ca, err := read(pki.caCert)
	if err != nil {
		return err
	}
	cert, err := read(pki.adminCert)
	if err != nil {
		return err
	}
	key, err := read(pki.adminKey)
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kube-apiserver"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
	cfg.Contexts["kube-apiserver"] = &clientcmdapi.Context{Cluster: "kube-apiserver", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "kube-apiserver"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	// Written to a temporary name and renamed, so a reader never sees half a file.
	tmp := path + ".tmp"
	if err := clientcmd.WriteToFile(*cfg, tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
