# Terway on the cloud nodes of a registered cluster whose on-premises nodes use host networking
# (no CNI DaemonSet: the seed's scenario 3). Same steps as examples/hybrid-cluster without the CNI
# affinity patch, which has nothing to patch here.
#
# With the bundled test servers: `hybrid-sandbox --dir DIR --scenario host`, then `source DIR/sandbox.env`.

terraform {
  required_providers {
    hybrid = {
      source  = "hybridops/hybrid"
      version = "~> 0.1"
    }
  }
}

provider "hybrid" {}

variable "cluster_id" { type = string }
variable "vswitch_ids" { type = map(list(string)) }
variable "security_group_id" { type = string }
variable "node_pool_ids" { type = list(string) }

data "hybrid_cluster_network" "this" {}

# Stop before changing anything when the cluster is not what this example is for.
check "host_network" {
  assert {
    condition     = data.hybrid_cluster_network.this.scenario == "host-network"
    error_message = "This cluster runs ${data.hybrid_cluster_network.this.cni}; use examples/hybrid-cluster instead."
  }
}

resource "hybrid_ram_grant" "terway" {}

resource "hybrid_terway_addon" "this" {
  cluster_id = var.cluster_id
  depends_on = [hybrid_ram_grant.terway]
}

resource "hybrid_eni_config" "this" {
  cluster_id     = hybrid_terway_addon.this.cluster_id
  vswitches      = var.vswitch_ids
  security_group = var.security_group_id
  service_cidr   = "172.21.0.0/20"
}

resource "hybrid_node_pool_label" "cloud" {
  for_each       = toset(var.node_pool_ids)
  cluster_id     = hybrid_terway_addon.this.cluster_id
  nodepool_id    = each.value
  apply_to_nodes = true
  depends_on     = [hybrid_eni_config.this]
}

output "scenario" {
  value = data.hybrid_cluster_network.this.scenario
}

output "addon" {
  value = "${hybrid_terway_addon.this.addon_name} ${hybrid_terway_addon.this.version} (${hybrid_terway_addon.this.state})"
}
