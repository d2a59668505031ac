//! Whole-machine CPU accounting for benchmarks.

/// Whole-machine CPU time counters from `/proc/stat` (Linux; `None` elsewhere). The benchmark
/// prints the share stolen by the hypervisor and spent waiting on I/O beside each figure: on a
/// shared virtual machine either can halve a figure from one run to the next, and the reader
/// should know which runs were disturbed.
#[derive(Clone, Copy)]
pub struct CpuTimes {
    total: u64,
    iowait: u64,
    steal: u64,
}

impl CpuTimes {
    pub fn now() -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    fn parse(stat: &str) -> Option<Self> {
        let mut words = stat.lines().next()?.split_whitespace();
        if words.next()? != "cpu" {
            return None;
        }
        let fields: Vec<u64> = words.map(|f| f.parse().ok()).collect::<Option<_>>()?;
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        Some(Self {
            total: fields.iter().take(8).sum(),
            iowait: *fields.get(4)?,
            steal: *fields.get(7)?,
        })
    }

    /// "steal S %, iowait W %" over the interval since `self`.
    pub fn since(self) -> String {
        let Some(now) = Self::now() else {
            return String::new();
        };
        let (steal, iowait) = self.shares_until(now);
        format!("   [machine: steal {steal:.0} %, iowait {iowait:.0} %]")
    }

    /// Percent of all CPU time between the two samples that was stolen, and that was iowait.
    fn shares_until(self, later: Self) -> (f64, f64) {
        let total = later.total.saturating_sub(self.total).max(1) as f64;
        let share = |a: u64, b: u64| 100.0 * a.saturating_sub(b) as f64 / total;
        (
            share(later.steal, self.steal),
            share(later.iowait, self.iowait),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_come_from_the_aggregate_cpu_line() {
        let before =
            CpuTimes::parse("cpu  100 0 50 800 20 0 0 30 0 0\ncpu0 50 0 25 400 10 0 0 15 0 0\n")
                .unwrap();
        let after = CpuTimes::parse("cpu  150 0 70 890 40 0 0 50 0 0\n").unwrap();
        // 200 ticks passed: 20 stolen, 20 waiting on I/O.
        assert_eq!(before.shares_until(after), (10.0, 10.0));
    }

    #[test]
    fn an_unreadable_line_is_none() {
        assert!(CpuTimes::parse("intr 1 2 3 4 5 6 7 8").is_none());
        assert!(CpuTimes::parse("cpu  1 2 3").is_none());
        assert!(CpuTimes::parse("").is_none());
        assert!(CpuTimes::parse("cpu  1 2 x").is_none());
    }
}
