# A registered cluster whose on-premises nodes run an overlay (Flannel VXLAN, Calico IPIP/VXLAN or a
# Cilium tunnel: the seed's scenario 1). Reads only: which network the cluster has, which nodes are
# cloud nodes, and the Terway datapath image those nodes will pull, e.g. to mirror it beforehand.
#
# With the bundled test servers: `hybrid-sandbox --dir DIR --scenario overlay`, then `source DIR/sandbox.env`.

terraform {
  required_providers {
    hybrid = {
      source  = "hybridops/hybrid"
      version = "~> 0.1"
    }
  }
}

provider "hybrid" {}

variable "region" {
  type    = string
  default = "cn-hangzhou"
}

data "hybrid_cluster_network" "this" {}

data "hybrid_datapath_image" "terway" {
  region = var.region
}

check "overlay" {
  assert {
    condition     = data.hybrid_cluster_network.this.scenario == "overlay"
    error_message = "The on-prem network is ${data.hybrid_cluster_network.this.scenario}, not an overlay."
  }
}

output "network" {
  value = {
    cni       = data.hybrid_cluster_network.this.cni
    mode      = data.hybrid_cluster_network.this.mode
    scenario  = data.hybrid_cluster_network.this.scenario
    pod_cidrs = data.hybrid_cluster_network.this.pod_cidrs
    daemonset = "${data.hybrid_cluster_network.this.cni_namespace}/${data.hybrid_cluster_network.this.cni_daemonset}"
  }
}

output "cloud_nodes" {
  value = data.hybrid_cluster_network.this.cloud_nodes
}

output "terway_image" {
  description = "The datapath image, pulled through the VPC registry endpoint."
  value       = data.hybrid_datapath_image.terway.vpc_image
}
