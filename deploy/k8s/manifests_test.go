// Package k8s checks the Kubernetes manifests of deploy/k8s without a cluster. The kustomization
// is built as `kubectl apply -k deploy/k8s` builds it (the kustomize API), and every object it
// makes is decoded strictly (an unknown or misplaced field is an error, as the API server's
// strict field validation makes it) into the k8s.io/api types of the Kubernetes release go.mod
// pins. Then the objects are checked against each other: selectors find their pods, ports and
// probes name ports the containers declare, the Envoy config reaches the headless Service, the
// pods are locked down, the grace period covers the drain.
//
// tests/deploy/test_k8s.py checks the same manifests against what they run: the Dockerfile's
// images, the `catapult` command line, the generated Envoy config in the real Envoy.
package k8s

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The Secret the installer creates (README): its name and every key the pods may read.
const secretName = "catapult"

var secretKeys = []string{"database-url", "key-pepper", "page-token-secret"}

// manifests are the objects `kubectl apply -k .` would send, decoded.
type manifests struct {
	namespaces      []corev1.Namespace
	serviceAccounts []corev1.ServiceAccount
	configMaps      []corev1.ConfigMap
	services        []corev1.Service
	deployments     []appsv1.Deployment
	jobs            []batchv1.Job
	pdbs            []policyv1.PodDisruptionBudget
	hpas            []autoscalingv2.HorizontalPodAutoscaler
	policies        []networkingv1.NetworkPolicy
}

// strict decodes one object's YAML into out, refusing any field out does not have.
func strict(t *testing.T, doc []byte, out any, what string) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, out); err != nil {
		t.Fatalf("%s does not decode strictly: %v", what, err)
	}
}

func build(t *testing.T) manifests {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), ".")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	var m manifests
	for _, resource := range resources.Resources() {
		doc, err := resource.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		kind, apiVersion := resource.GetKind(), resource.GetApiVersion()
		what := fmt.Sprintf("%s %s (%s)", kind, resource.GetName(), apiVersion)
		switch apiVersion + " " + kind {
		case "v1 Namespace":
			m.namespaces = append(m.namespaces, decode[corev1.Namespace](t, doc, what))
		case "v1 ServiceAccount":
			m.serviceAccounts = append(m.serviceAccounts, decode[corev1.ServiceAccount](t, doc, what))
		case "v1 ConfigMap":
			m.configMaps = append(m.configMaps, decode[corev1.ConfigMap](t, doc, what))
		case "v1 Service":
			m.services = append(m.services, decode[corev1.Service](t, doc, what))
		case "apps/v1 Deployment":
			m.deployments = append(m.deployments, decode[appsv1.Deployment](t, doc, what))
		case "batch/v1 Job":
			m.jobs = append(m.jobs, decode[batchv1.Job](t, doc, what))
		case "policy/v1 PodDisruptionBudget":
			m.pdbs = append(m.pdbs, decode[policyv1.PodDisruptionBudget](t, doc, what))
		case "autoscaling/v2 HorizontalPodAutoscaler":
			m.hpas = append(m.hpas, decode[autoscalingv2.HorizontalPodAutoscaler](t, doc, what))
		case "networking.k8s.io/v1 NetworkPolicy":
			m.policies = append(m.policies, decode[networkingv1.NetworkPolicy](t, doc, what))
		default:
			t.Errorf("%s: a kind this check does not know; add it here, with its checks", what)
		}
	}
	return m
}

func decode[T any](t *testing.T, doc []byte, what string) T {
	t.Helper()
	var out T
	strict(t, doc, &out, what)
	return out
}

func (m manifests) deployment(t *testing.T, name string) appsv1.Deployment {
	t.Helper()
	for _, d := range m.deployments {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no Deployment %s", name)
	return appsv1.Deployment{}
}

func (m manifests) service(t *testing.T, name string) corev1.Service {
	t.Helper()
	for _, s := range m.services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no Service %s", name)
	return corev1.Service{}
}

// pods are every pod template, by the name of the object that owns it.
func (m manifests) pods() map[string]corev1.PodTemplateSpec {
	pods := map[string]corev1.PodTemplateSpec{}
	for _, d := range m.deployments {
		pods["Deployment "+d.Name] = d.Spec.Template
	}
	for _, j := range m.jobs {
		pods["Job "+j.Name] = j.Spec.Template
	}
	return pods
}

// matching are the names of the Deployments whose pods the selector selects.
func (m manifests) matching(t *testing.T, selector labels.Selector) []string {
	t.Helper()
	var found []string
	for _, d := range m.deployments {
		if selector.Matches(labels.Set(d.Spec.Template.Labels)) {
			found = append(found, d.Name)
		}
	}
	return found
}

func TestTheKustomizationBuildsEveryExpectedObject(t *testing.T) {
	m := build(t)
	names := func(count int, name func(int) string) []string {
		var out []string
		for i := range count {
			out = append(out, name(i))
		}
		slices.Sort(out)
		return out
	}
	for _, check := range []struct {
		kind      string
		got, want []string
	}{
		{"Namespace", names(len(m.namespaces), func(i int) string { return m.namespaces[i].Name }), []string{"catapult"}},
		{"Deployment", names(len(m.deployments), func(i int) string { return m.deployments[i].Name }), []string{"catapult-envoy", "catapult-server"}},
		{"Service", names(len(m.services), func(i int) string { return m.services[i].Name }), []string{"catapult-envoy", "catapult-server"}},
		{"Job", names(len(m.jobs), func(i int) string { return m.jobs[i].Name }), []string{"catapult-migrate"}},
		{"PodDisruptionBudget", names(len(m.pdbs), func(i int) string { return m.pdbs[i].Name }), []string{"catapult-envoy", "catapult-server"}},
		{"HorizontalPodAutoscaler", names(len(m.hpas), func(i int) string { return m.hpas[i].Name }), []string{"catapult-server"}},
		{"NetworkPolicy", names(len(m.policies), func(i int) string { return m.policies[i].Name }), []string{"catapult-server"}},
		{"ServiceAccount", names(len(m.serviceAccounts), func(i int) string { return m.serviceAccounts[i].Name }), []string{"catapult"}},
	} {
		if !slices.Equal(check.got, check.want) {
			t.Errorf("%s objects %v, want %v", check.kind, check.got, check.want)
		}
	}
	if len(m.configMaps) != 1 || !strings.HasPrefix(m.configMaps[0].Name, "catapult-envoy-") {
		t.Errorf("want one ConfigMap catapult-envoy-<content hash>, got %d", len(m.configMaps))
	}
	for _, d := range m.deployments {
		if d.Namespace != "catapult" {
			t.Errorf("Deployment %s in namespace %q", d.Name, d.Namespace)
		}
	}
}

// Every pod meets the restricted Pod Security Standard the namespace enforces, and every
// container says what it needs (the autoscaler needs CPU requests; memory limits bound a leak).
func TestPodsAreLockedDown(t *testing.T) {
	m := build(t)
	if m.namespaces[0].Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Error("the namespace does not enforce the restricted Pod Security Standard")
	}
	for owner, pod := range m.pods() {
		spec := pod.Spec
		security := spec.SecurityContext
		if security == nil || security.RunAsNonRoot == nil || !*security.RunAsNonRoot || security.RunAsUser == nil || *security.RunAsUser == 0 {
			t.Errorf("%s: not runAsNonRoot with a non-root runAsUser", owner)
		}
		if security == nil || security.SeccompProfile == nil || security.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: no RuntimeDefault seccomp profile", owner)
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s: mounts a service account token it has no use for", owner)
		}
		for _, c := range spec.Containers {
			s := c.SecurityContext
			if s == nil || s.ReadOnlyRootFilesystem == nil || !*s.ReadOnlyRootFilesystem {
				t.Errorf("%s/%s: root filesystem not read-only", owner, c.Name)
			}
			if s == nil || s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation {
				t.Errorf("%s/%s: privilege escalation allowed", owner, c.Name)
			}
			if s == nil || s.Capabilities == nil || !slices.Equal(s.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(s.Capabilities.Add) > 0 {
				t.Errorf("%s/%s: capabilities not all dropped", owner, c.Name)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s: needs CPU and memory requests and a memory limit", owner, c.Name)
			}
			if !slices.ContainsFunc(c.VolumeMounts, func(v corev1.VolumeMount) bool { return v.MountPath == "/tmp" }) {
				t.Errorf("%s/%s: no writable /tmp on a read-only root filesystem", owner, c.Name)
			}
		}
	}
}

// portOf resolves a probe's or a Service's port (a number or a name) to one the container declares.
func portOf(c corev1.Container, port intstr.IntOrString) (int32, bool) {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

func TestProbesPointAtPortsTheContainersDeclare(t *testing.T) {
	m := build(t)
	for owner, pod := range m.pods() {
		for _, c := range pod.Spec.Containers {
			for kind, probe := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
				if probe == nil {
					continue
				}
				var port intstr.IntOrString
				switch {
				case probe.GRPC != nil:
					port = intstr.FromInt32(probe.GRPC.Port)
				case probe.HTTPGet != nil:
					port = probe.HTTPGet.Port
				case probe.TCPSocket != nil:
					port = probe.TCPSocket.Port
				case probe.Exec != nil:
					continue // runs in the container: tests/deploy/test_k8s.py checks its address
				}
				if _, ok := portOf(c, port); !ok {
					t.Errorf("%s/%s: %s probe on port %s, which the container does not declare", owner, c.Name, kind, port.String())
				}
			}
			if strings.HasPrefix(owner, "Deployment ") && (c.ReadinessProbe == nil || c.LivenessProbe == nil) {
				t.Errorf("%s/%s: a server needs readiness and liveness probes", owner, c.Name)
			}
		}
	}
	server := m.deployment(t, "catapult-server").Spec.Template.Spec.Containers[0]
	if p := server.ReadinessProbe.GRPC; p == nil || (p.Service != nil && *p.Service != "") {
		t.Error("the server's readiness is grpc.health.v1 of the whole server (SERVING only with its database)")
	}
	for _, p := range []*corev1.Probe{server.LivenessProbe, server.StartupProbe} {
		if p == nil || p.GRPC == nil || p.GRPC.Service == nil || *p.GRPC.Service != "liveness" {
			t.Error("the server's liveness and startup probes ask grpc.health.v1 'liveness' (not the database's health)")
		}
	}
}

func TestServicesBudgetsAndTheAutoscalerFindTheirPods(t *testing.T) {
	m := build(t)
	for _, s := range m.services {
		found := m.matching(t, labels.SelectorFromSet(s.Spec.Selector))
		if len(found) != 1 {
			t.Errorf("Service %s selects the pods of %v, want exactly one Deployment", s.Name, found)
			continue
		}
		c := m.deployment(t, found[0]).Spec.Template.Spec.Containers[0]
		for _, p := range s.Spec.Ports {
			if _, ok := portOf(c, p.TargetPort); !ok {
				t.Errorf("Service %s: targetPort %s is not a port of %s", s.Name, p.TargetPort.String(), found[0])
			}
		}
	}
	for _, pdb := range m.pdbs {
		selector, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || len(m.matching(t, selector)) != 1 {
			t.Errorf("PodDisruptionBudget %s does not select exactly one Deployment's pods", pdb.Name)
		}
	}
	for _, hpa := range m.hpas {
		target := m.deployment(t, hpa.Spec.ScaleTargetRef.Name)
		if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || target.Spec.Replicas != nil {
			t.Errorf("HorizontalPodAutoscaler %s: scales a Deployment that leaves replicas to it", hpa.Name)
		}
		if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 {
			t.Errorf("HorizontalPodAutoscaler %s: fewer than 2 replicas leaves nowhere to retry", hpa.Name)
		}
	}
	for _, policy := range m.policies {
		selector, err := metav1.LabelSelectorAsSelector(&policy.Spec.PodSelector)
		if err != nil || !slices.Equal(m.matching(t, selector), []string{"catapult-server"}) {
			t.Errorf("NetworkPolicy %s does not guard the server pods", policy.Name)
		}
		for _, rule := range policy.Spec.Ingress {
			for _, peer := range rule.From {
				from, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
				if err != nil || !slices.Equal(m.matching(t, from), []string{"catapult-envoy"}) {
					t.Errorf("NetworkPolicy %s admits pods other than Envoy's", policy.Name)
				}
			}
			server := m.deployment(t, "catapult-server").Spec.Template.Spec.Containers[0]
			for _, port := range rule.Ports {
				if _, ok := portOf(server, *port.Port); !ok {
					t.Errorf("NetworkPolicy %s opens port %s, which the server does not declare", policy.Name, port.Port.String())
				}
			}
		}
	}
	if headless := m.service(t, "catapult-server"); headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Error("Envoy's STRICT_DNS cluster needs the server Service headless (clusterIP: None): one address per pod")
	}
}

// The Secret is the installer's, with no default: every pod reads it by the documented name and
// keys, and none may start without it.
func TestSecretsAreReferencedNeverShipped(t *testing.T) {
	m := build(t)
	for owner, pod := range m.pods() {
		for _, c := range pod.Spec.Containers {
			for _, env := range c.Env {
				ref := env.ValueFrom
				if ref == nil || ref.SecretKeyRef == nil {
					if strings.Contains(strings.ToLower(env.Name), "pepper") || strings.Contains(strings.ToLower(env.Name), "secret") || env.Name == "CATAPULT_DATABASE_URL" {
						t.Errorf("%s/%s: %s has a value in the manifest", owner, c.Name, env.Name)
					}
					continue
				}
				key := ref.SecretKeyRef
				if key.Name != secretName || !slices.Contains(secretKeys, key.Key) || (key.Optional != nil && *key.Optional) {
					t.Errorf("%s/%s: %s from Secret %s key %s", owner, c.Name, env.Name, key.Name, key.Key)
				}
			}
		}
	}
}

// The server's drain (preStop, then CATAPULT_SHUTDOWN_GRACE for the calls in flight) ends before
// the kubelet's SIGKILL, with seconds to spare for the process to exit.
func TestTheGracePeriodCoversTheDrain(t *testing.T) {
	m := build(t)
	for _, name := range []string{"catapult-server", "catapult-envoy"} {
		pod := m.deployment(t, name).Spec.Template.Spec
		c := pod.Containers[0]
		if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Exec == nil {
			t.Errorf("%s: no preStop", name)
			continue
		}
		preStop := secondsIn(strings.Join(c.Lifecycle.PreStop.Exec.Command, " "))
		grace := 0.0
		for _, env := range c.Env {
			if env.Name == "CATAPULT_SHUTDOWN_GRACE" {
				grace, _ = strconv.ParseFloat(env.Value, 64)
			}
		}
		if name == "catapult-server" && grace == 0 {
			t.Errorf("%s: CATAPULT_SHUTDOWN_GRACE is not set", name)
		}
		if pod.TerminationGracePeriodSeconds == nil || float64(*pod.TerminationGracePeriodSeconds) < preStop+grace+5 {
			t.Errorf("%s: terminationGracePeriodSeconds under preStop %gs + drain %gs + 5s", name, preStop, grace)
		}
	}
}

// secondsIn is the sleep of a preStop command: `sleep 5`, or Python's time.sleep(15).
func secondsIn(command string) float64 {
	match := regexp.MustCompile(`sleep[ (](\d+(?:\.\d+)?)`).FindStringSubmatch(command)
	if match == nil {
		return 0
	}
	seconds, _ := strconv.ParseFloat(match[1], 64)
	return seconds
}

// The ConfigMap is the generated file, mounted where Envoy's -c looks, and the config it holds
// listens where the container and its Service say and sends calls to the headless Service.
func TestTheEnvoyConfigMapIsTheGeneratedConfigAndReachesTheServers(t *testing.T) {
	m := build(t)
	generated, err := os.ReadFile("envoy-bootstrap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	configMap := m.configMaps[0]
	if !bytes.Equal([]byte(configMap.Data["envoy.yaml"]), generated) {
		t.Fatal("the ConfigMap's envoy.yaml is not envoy-bootstrap.yaml")
	}
	envoy := m.deployment(t, "catapult-envoy").Spec.Template.Spec
	c := envoy.Containers[0]
	var mountPath string
	for _, v := range envoy.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == configMap.Name {
			for _, mount := range c.VolumeMounts {
				if mount.Name == v.Name {
					mountPath = mount.MountPath
				}
			}
		}
	}
	if i := slices.Index(c.Args, "-c"); mountPath == "" || i < 0 || c.Args[i+1] != mountPath+"/envoy.yaml" {
		t.Errorf("Envoy's -c is not the ConfigMap's envoy.yaml (mounted at %q): %v", mountPath, c.Args)
	}

	var config struct {
		StaticResources struct {
			Listeners []struct {
				Address struct {
					SocketAddress struct {
						PortValue int32 `json:"port_value"`
					} `json:"socket_address"`
				} `json:"address"`
			} `json:"listeners"`
			Clusters []struct {
				Type           string `json:"type"`
				LoadAssignment struct {
					Endpoints []struct {
						LbEndpoints []struct {
							Endpoint struct {
								Address struct {
									SocketAddress struct {
										Address   string `json:"address"`
										PortValue int32  `json:"port_value"`
									} `json:"socket_address"`
								} `json:"address"`
							} `json:"endpoint"`
						} `json:"lb_endpoints"`
					} `json:"endpoints"`
				} `json:"load_assignment"`
			} `json:"clusters"`
		} `json:"static_resources"`
	}
	if err := yaml.Unmarshal(generated, &config); err != nil {
		t.Fatal(err)
	}
	listen := config.StaticResources.Listeners[0].Address.SocketAddress.PortValue
	if port, ok := portOf(c, intstr.FromString("http")); !ok || port != listen {
		t.Errorf("Envoy listens on %d; its container's http port is %d", listen, port)
	}
	cluster := config.StaticResources.Clusters[0]
	upstream := cluster.LoadAssignment.Endpoints[0].LbEndpoints[0].Endpoint.Address.SocketAddress
	headless := m.service(t, "catapult-server")
	if cluster.Type != "STRICT_DNS" || upstream.Address != headless.Name || upstream.PortValue != headless.Spec.Ports[0].Port {
		t.Errorf("Envoy's upstream is %s %s:%d, not the headless Service %s:%d", cluster.Type, upstream.Address, upstream.PortValue, headless.Name, headless.Spec.Ports[0].Port)
	}
}
