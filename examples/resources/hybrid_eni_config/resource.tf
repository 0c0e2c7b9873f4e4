# Terway's ConfigMap kube-system/eni-config for the cloud nodes of a registered cluster.
resource "hybrid_eni_config" "this" {
  vswitches = {
    "cn-hangzhou-h" = ["vsw-bp1s5fnvk4gn2tws03624"]
    "cn-hangzhou-i" = ["vsw-bp1ctj4fdmv2i0kvsomqv"]
  }
  security_group           = "sg-bp19k3sj8dk3dcd7eoof"
  service_cidr             = "172.21.0.0/20"
  vswitch_selection_policy = "ordered"
  max_pool_size            = 5
  min_pool_size            = 0
  eni_tags = {
    "managed-by" = "terraform"
  }
}
