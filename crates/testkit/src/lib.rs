//! lockstep-testkit (being built).
