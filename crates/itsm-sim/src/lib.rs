//! itsm-sim (being built).
