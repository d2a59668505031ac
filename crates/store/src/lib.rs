//! lockstep-store (being built).
