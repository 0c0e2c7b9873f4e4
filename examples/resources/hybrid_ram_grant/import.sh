# Import by RAM user name.
terraform import hybrid_ram_grant.terway ack-one-user-ce313528c3
