# What the registered cluster's on-premises network is, and which nodes are cloud nodes.
data "hybrid_cluster_network" "this" {}

output "scenario" {
  value = data.hybrid_cluster_network.this.scenario # overlay, bgp or host-network
}

# Keep the on-prem CNI off cloud nodes, whichever CNI it is.
resource "hybrid_cni_affinity_patch" "cni" {
  count     = data.hybrid_cluster_network.this.cni == "none" ? 0 : 1
  namespace = data.hybrid_cluster_network.this.cni_namespace
  name      = data.hybrid_cluster_network.this.cni_daemonset
}
