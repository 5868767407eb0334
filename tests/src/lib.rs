//! Helpers for the end-to-end tests: locating the binary, unique EAL file prefixes.
