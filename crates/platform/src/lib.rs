//! lockstep-platform (being built).
