data "hybrid_datapath_image" "terway" {
  region = "cn-hangzhou"
}

output "terway_image" {
  # e.g. registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/terway:v1.17.5
  value = data.hybrid_datapath_image.terway.vpc_image
}
