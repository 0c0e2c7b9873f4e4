# Mark the cloud node pools so Terway runs on their nodes and the on-prem CNI stays off them.
variable "cluster_id" { type = string }
variable "node_pool_ids" { type = list(string) }

resource "hybrid_node_pool_label" "cloud" {
  for_each       = toset(var.node_pool_ids)
  cluster_id     = var.cluster_id
  nodepool_id    = each.value
  labels         = { "alibabacloud.com/external" = "true" }
  apply_to_nodes = true
}
