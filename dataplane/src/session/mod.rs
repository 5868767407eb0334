//! Placeholder: filled by the firewall pipeline work.
