//! Confidence intervals and paired significance by bootstrap resampling,
//! as sacreBLEU does them (`significance.py`): resample the segments with
//! replacement `samples` times (the same draws for every system), score
//! each resample from the summed segment statistics; the interval is the
//! 2.5th and 97.5th percentiles (index n/40 from each end of the sorted
//! scores) and sacreBLEU's "μ ± half-width"; the paired test's p-value is
//! (c + 1) / (samples + 1), c counting the resampled absolute differences,
//! centred on their mean, that exceed the real one. The draws come from a
//! fixed seed (our own generator, not numpy's, so the figures agree with
//! sacreBLEU's within its sampling noise, not to the digit).

use super::{Metric, totals};
use crate::rng::Rng;

/// sacreBLEU's default number of resamples and seed.
pub const SAMPLES: usize = 1000;
pub const SEED: u64 = 12345;

/// A score's bootstrap interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    /// The mean over the resamples.
    pub mean: f64,
    /// Half the width between the bounds (sacreBLEU's "±").
    pub half_width: f64,
    pub low: f64,
    pub high: f64,
}

/// The resample indices: `samples` draws of `n` segments each.
fn draws(n: usize, samples: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = Rng::new(seed);
    (0..samples)
        .map(|_| (0..n).map(|_| rng.below(n as u64) as usize).collect())
        .collect()
}

fn resampled_scores(metric: &dyn Metric, stats: &[Vec<f64>], draws: &[Vec<usize>]) -> Vec<f64> {
    draws
        .iter()
        .map(|d| {
            let picked: Vec<Vec<f64>> = d.iter().map(|&i| stats[i].clone()).collect();
            metric.score(&totals(&picked))
        })
        .collect()
}

fn interval(mut scores: Vec<f64>) -> Interval {
    if scores.is_empty() {
        return Interval {
            mean: 0.0,
            half_width: 0.0,
            low: 0.0,
            high: 0.0,
        };
    }
    scores.sort_by(|a, b| a.total_cmp(b));
    let n = scores.len();
    let lower = n / 40;
    let upper = n - lower - 1;
    let (low, high) = (scores[lower], scores[upper]);
    Interval {
        mean: scores.iter().sum::<f64>() / n as f64,
        half_width: 0.5 * (high - low),
        low,
        high,
    }
}

/// The 95 % interval of a corpus score.
pub fn confidence(metric: &dyn Metric, stats: &[Vec<f64>], samples: usize, seed: u64) -> Interval {
    if stats.is_empty() {
        return interval(Vec::new());
    }
    interval(resampled_scores(
        metric,
        stats,
        &draws(stats.len(), samples, seed),
    ))
}

/// Two systems on the same segments.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Paired {
    pub baseline: f64,
    pub system: f64,
    /// The chance of a difference this large if the systems were alike.
    pub p_value: f64,
    /// The system's interval over the same resamples.
    pub interval: Interval,
}

/// sacreBLEU's paired bootstrap test of `system` against `baseline`.
pub fn paired(
    metric: &dyn Metric,
    baseline: &[Vec<f64>],
    system: &[Vec<f64>],
    samples: usize,
    seed: u64,
) -> Paired {
    let n = baseline.len().min(system.len());
    let (baseline, system) = (&baseline[..n], &system[..n]);
    let bl = metric.score(&totals(baseline));
    let sys = metric.score(&totals(system));
    let d = draws(n, samples, seed);
    let scores_bl = resampled_scores(metric, baseline, &d);
    let scores_sys = resampled_scores(metric, system, &d);
    let diffs: Vec<f64> = scores_sys
        .iter()
        .zip(&scores_bl)
        .map(|(s, b)| (s - b).abs())
        .collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len().max(1) as f64;
    let real = (bl - sys).abs();
    let c = diffs.iter().filter(|x| *x - mean > real).count();
    Paired {
        baseline: bl,
        system: sys,
        p_value: (c + 1) as f64 / (diffs.len() + 1) as f64,
        interval: interval(scores_sys),
    }
}

/// The paired test in words: "base is better than tiny.en on WER, p =
/// 0.001", or that the two do not differ at the 5 % level.
pub fn verdict(kind: super::MetricKind, p: &Paired, baseline: &str, system: &str) -> String {
    let title = kind.title();
    if p.system == p.baseline {
        return format!("{system} and {baseline} score the same on {title}");
    }
    if p.p_value >= 0.05 {
        return format!(
            "{system} and {baseline} do not differ significantly on {title} (p = {:.3})",
            p.p_value
        );
    }
    let system_better = (p.system < p.baseline) == kind.lower_is_better();
    let (winner, loser) = if system_better {
        (system, baseline)
    } else {
        (baseline, system)
    };
    format!(
        "{winner} is better than {loser} on {title}, p = {:.3}",
        p.p_value
    )
}
