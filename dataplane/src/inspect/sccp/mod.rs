//! SCCP (Skinny) inspection: PDU framing, version-aware layouts, calls and registrations.
