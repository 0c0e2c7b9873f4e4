# The RAM user, Terway policy and AccessKey for the terway-eniip addon; the key pair lands in the
# Secret kube-system/alibaba-addon-secret and never in Terraform state.
resource "hybrid_ram_grant" "terway" {
  # user_name is generated (ack-one-user-<hex>) when not set.
  display_name = "Terway on the registered cluster"

  # Change to rotate the AccessKey without a window of an invalid key in the Secret.
  rotation = "2026-11"
}
