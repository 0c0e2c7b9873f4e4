# Keep calico-node off the cloud nodes (labelled alibabacloud.com/external=true), where Terway runs.
resource "hybrid_cni_affinity_patch" "calico" {
  preset = "calico"
}

# Any other DaemonSet, by name.
resource "hybrid_cni_affinity_patch" "custom" {
  namespace = "kube-system"
  name      = "my-cni-agent"
  key       = "alibabacloud.com/external"
  values    = ["true"]
}
