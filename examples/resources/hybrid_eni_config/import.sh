# Import by namespace/name of the ConfigMap.
terraform import hybrid_eni_config.this kube-system/eni-config
