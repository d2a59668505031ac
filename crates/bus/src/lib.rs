//! lockstep-bus (being built).
