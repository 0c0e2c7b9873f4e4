# Import by cluster_id:nodepool_id (imports the alibabacloud.com/external label).
terraform import 'hybrid_node_pool_label.cloud["np1a2b3c"]' c0123456789abcdef0123456789abcdef:np1a2b3c
