//! go-plugin serving: handshake, AutoMTLS, health, controller and stdio services.
