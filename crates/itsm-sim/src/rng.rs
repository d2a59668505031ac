//! Seedable randomness shared by fault injection and webhook delivery, so a test that fixes the seed
//! sees the same faults for the same sequence of requests.

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug)]
pub struct SimRng {
    seed: u64,
    inner: Mutex<StdRng>,
}

impl SimRng {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            inner: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    /// True with probability `p` (clamped to 0..=1). `p <= 0` never draws, so configurations without
    /// faults do not consume randomness.
    pub fn chance(&self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.inner.lock().random::<f64>() < p
    }

    /// Uniform in `0..=max`.
    pub fn up_to(&self, max: u64) -> u64 {
        if max == 0 {
            0
        } else {
            self.inner.lock().random_range(0..=max)
        }
    }

    pub fn reseed(&self, seed: Option<u64>) {
        *self.inner.lock() = StdRng::seed_from_u64(seed.unwrap_or(self.seed));
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let a = SimRng::new(7);
        let b = SimRng::new(7);
        let xs: Vec<bool> = (0..64).map(|_| a.chance(0.5)).collect();
        let ys: Vec<bool> = (0..64).map(|_| b.chance(0.5)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().any(|x| *x) && xs.iter().any(|x| !*x));
        a.reseed(None);
        let again: Vec<bool> = (0..64).map(|_| a.chance(0.5)).collect();
        assert_eq!(xs, again);
    }

    #[test]
    fn extremes_do_not_draw() {
        let r = SimRng::new(1);
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
        assert_eq!(r.up_to(0), 0);
        assert!(r.up_to(10) <= 10);
    }
}
