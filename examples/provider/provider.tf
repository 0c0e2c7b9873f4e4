terraform {
  required_providers {
    hybrid = {
      source  = "hybridops/hybrid"
      version = "~> 0.1"
    }
  }
}

# Credentials come from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, or a profile
# in ~/.aliyun/config.json); the cluster from KUBECONFIG.
provider "hybrid" {
  region = "cn-hangzhou"

  kubernetes {
    config_path    = "~/.kube/registered-cluster.yaml"
    config_context = "hybrid"
  }
}
