//! Pure kiosk logic (no Slint, no serial ports, no HTTP).
