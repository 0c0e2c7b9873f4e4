# What the registered cluster's on-premises network is, and which nodes are cloud nodes.
data "hybrid_cluster_network" "this" {}

output "network" {
  value = {
    cni         = data.hybrid_cluster_network.this.cni      # calico, flannel, cilium or none
    mode        = data.hybrid_cluster_network.this.mode     # e.g. bgp, ipip, vxlan, host-gw, native
    scenario    = data.hybrid_cluster_network.this.scenario # overlay, bgp or host-network
    cloud_nodes = data.hybrid_cluster_network.this.cloud_nodes
  }
}

# BGP scenario: Terway networks the cloud nodes, so the on-prem CNI must stay off them.
# (Overlay: the CNI runs on cloud nodes too; host network: there is no CNI to patch.)
resource "hybrid_cni_affinity_patch" "cni" {
  count     = data.hybrid_cluster_network.this.scenario == "bgp" ? 1 : 0
  namespace = data.hybrid_cluster_network.this.cni_namespace
  name      = data.hybrid_cluster_network.this.cni_daemonset
}
