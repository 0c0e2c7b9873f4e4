# Terway (terway-eniip) on an ACK One registered cluster.
resource "hybrid_terway_addon" "this" {
  cluster_id     = "c0123456789abcdef0123456789abcdef"
  network_policy = false
  config         = jsonencode({ IPVlan = "false" })

  timeouts {
    create = "20m"
  }
}
