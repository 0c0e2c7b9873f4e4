# Import by cluster_id:addon_name.
terraform import hybrid_terway_addon.this c0123456789abcdef0123456789abcdef:terway-eniip
