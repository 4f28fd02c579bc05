//! This process's threads and resident memory, from `/proc/self/status`.

/// One sample of `/proc/self/status`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    pub threads: u64,
    /// VmRSS in MiB: everything resident, mapped file pages included.
    pub rss_mb: f64,
}

pub fn sample() -> anyhow::Result<Sample> {
    let s = std::fs::read_to_string("/proc/self/status")?;
    let field = |name: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .ok_or_else(|| anyhow::anyhow!("no {name} in /proc/self/status"))
    };
    Ok(Sample { threads: field("Threads:")?, rss_mb: field("VmRSS:")? as f64 / 1024.0 })
}

/// Samples every 100 ms in the background; `peak` gives the largest seen so far.
pub struct Peak {
    peak: std::sync::Arc<std::sync::Mutex<Sample>>,
    task: tokio::task::JoinHandle<()>,
}

impl Peak {
    pub fn start() -> Self {
        let peak = std::sync::Arc::new(std::sync::Mutex::new(Sample::default()));
        let p = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Ok(s) = sample() {
                    let mut p = p.lock().expect("peak");
                    p.threads = p.threads.max(s.threads);
                    p.rss_mb = p.rss_mb.max(s.rss_mb);
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        Peak { peak, task }
    }

    pub fn stop(self) -> Sample {
        self.task.abort();
        *self.peak.lock().expect("peak")
    }
}
