//! Acceptance-test harness: drives the real Terraform CLI against the provider.
