//! Alibaba Cloud OpenAPI client (ACS3-HMAC-SHA256 signing, credentials, retries).
