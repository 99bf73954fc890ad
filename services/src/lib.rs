//! Kiosk services: local store and sync.
