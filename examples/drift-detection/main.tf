# The configuration under a scheduled drift check: the Kubernetes-side resources of the runbook,
# which out-of-band `kubectl edit`s most often undo. drift-check.sh plans it without locking and
# reports what changed.

terraform {
  required_providers {
    hybrid = {
      source  = "hybridops/hybrid"
      version = "~> 0.1"
    }
  }
}

provider "hybrid" {}

variable "vswitch_ids" { type = map(list(string)) }
variable "security_group_id" { type = string }

resource "hybrid_eni_config" "this" {
  vswitches                = var.vswitch_ids
  security_group           = var.security_group_id
  service_cidr             = "172.21.0.0/20"
  vswitch_selection_policy = "ordered"
  max_pool_size            = 5
}

resource "hybrid_cni_affinity_patch" "calico" {
  preset = "calico"
}
