//! lockstep-proto (being built).
