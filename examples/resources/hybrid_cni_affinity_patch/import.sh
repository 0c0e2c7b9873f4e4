# Import by namespace/name of the DaemonSet.
terraform import hybrid_cni_affinity_patch.calico kube-system/calico-node
