# The whole hybrid-network runbook for an ACK One registered cluster whose on-premises nodes run
# Calico in BGP mode (the seed's scenario 2), as one configuration. Steps in the runbook's order,
# wired by references so Terraform runs them in that order:
#   1. RAM grant      the addon's RAM user, policy and AccessKey, in kube-system/alibaba-addon-secret
#   2. Terway addon   terway-eniip installed on the registered cluster
#   3. ENI config     kube-system/eni-config: vSwitches per zone, security group, service CIDR
#   4. CNI affinity   the on-prem CNI DaemonSet kept off the cloud nodes
#   5. Pool labels    cloud node pools (and their nodes) labelled alibabacloud.com/external=true
#
# With the bundled test servers: `source DIR/sandbox.env` sets every variable below.

terraform {
  required_providers {
    hybrid = {
      source  = "hybridops/hybrid"
      version = "~> 0.1"
    }
  }
}

# Credentials, region and endpoints from the environment; the cluster from KUBECONFIG.
provider "hybrid" {}

variable "cluster_id" {
  type        = string
  description = "ID of the ACK One registered cluster."
}

variable "vswitch_ids" {
  type        = map(list(string))
  description = "vSwitches for pod IPs, by zone."
}

variable "security_group_id" {
  type        = string
  description = "Security group of the ENIs Terway creates."
}

variable "node_pool_ids" {
  type        = list(string)
  description = "The cloud node pools."
}

variable "service_cidr" {
  type    = string
  default = "172.21.0.0/20"
}

variable "region" {
  type    = string
  default = "cn-hangzhou"
}

# What the on-premises network is (and which DaemonSet to keep off the cloud nodes).
data "hybrid_cluster_network" "this" {}

# 1. The addon's RAM identity. Its AccessKey secret goes only into the Kubernetes Secret.
resource "hybrid_ram_grant" "terway" {}

# 2. Terway, after its credentials are in place.
resource "hybrid_terway_addon" "this" {
  cluster_id     = var.cluster_id
  network_policy = false

  depends_on = [hybrid_ram_grant.terway]
}

# 3. Terway's configuration. Credentials come from the addon Secret of step 1, so eni_conf holds none.
resource "hybrid_eni_config" "this" {
  cluster_id               = hybrid_terway_addon.this.cluster_id
  vswitches                = var.vswitch_ids
  security_group           = var.security_group_id
  service_cidr             = var.service_cidr
  vswitch_selection_policy = "ordered"
  max_pool_size            = 5
  min_pool_size            = 0
  eni_tags = {
    "managed-by" = "terraform-provider-hybrid"
  }
}

# 4. Keep the on-prem CNI (calico-node here) off the cloud nodes. Only a routed (BGP) network needs
#    this; an overlay keeps its CNI on the cloud nodes and does not use Terway at all.
resource "hybrid_cni_affinity_patch" "onprem_cni" {
  count     = data.hybrid_cluster_network.this.scenario == "bgp" ? 1 : 0
  namespace = data.hybrid_cluster_network.this.cni_namespace
  name      = data.hybrid_cluster_network.this.cni_daemonset

  depends_on = [hybrid_eni_config.this]
}

# 5. Mark the cloud node pools: Terway runs there, the on-prem CNI does not.
resource "hybrid_node_pool_label" "cloud" {
  for_each       = toset(var.node_pool_ids)
  cluster_id     = hybrid_terway_addon.this.cluster_id
  nodepool_id    = each.value
  apply_to_nodes = true

  depends_on = [hybrid_cni_affinity_patch.onprem_cni]
}

# The Terway datapath image the cloud nodes pull, for the installed version.
data "hybrid_datapath_image" "terway" {
  region  = var.region
  version = hybrid_terway_addon.this.version
}

output "scenario" {
  description = "The on-premises network scenario found in the cluster."
  value       = "${data.hybrid_cluster_network.this.scenario} (${data.hybrid_cluster_network.this.cni} ${data.hybrid_cluster_network.this.mode})"
}

output "ram_user" {
  value = hybrid_ram_grant.terway.user_name
}

output "addon" {
  value = "${hybrid_terway_addon.this.addon_name} ${hybrid_terway_addon.this.version} (${hybrid_terway_addon.this.state})"
}

output "eni_config" {
  value = hybrid_eni_config.this.id
}

output "cni_kept_off_cloud_nodes" {
  description = "Whether the on-prem CNI's affinity excludes alibabacloud.com/external=true nodes."
  value       = alltrue([for p in hybrid_cni_affinity_patch.onprem_cni : p.in_effect])
}

output "cloud_node_pools" {
  value = sort([for l in hybrid_node_pool_label.cloud : l.nodepool_id])
}

output "cloud_nodes" {
  value = data.hybrid_cluster_network.this.cloud_nodes
}

output "terway_image" {
  value = data.hybrid_datapath_image.terway.vpc_image
}
