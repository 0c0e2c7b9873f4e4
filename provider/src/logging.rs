//! `tracing` output as go-hclog JSON lines on stderr, which Terraform re-levels.
