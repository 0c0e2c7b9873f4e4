# The smallest useful configuration: which Terway datapath image will the cloud nodes of a
# registered cluster in this region run? Needs no credentials and makes no API call.
terraform {
  required_providers {
    hybrid = {
      source  = "hybridops/hybrid"
      version = "~> 0.1"
    }
  }
}

variable "region" {
  type    = string
  default = "cn-hangzhou"
}

data "hybrid_datapath_image" "terway" {
  region = var.region
}

output "datapath_image" {
  description = "Image pulled by cloud nodes through the VPC registry."
  value       = data.hybrid_datapath_image.terway.vpc_image
}

output "all_images" {
  value = data.hybrid_datapath_image.terway.images
}
