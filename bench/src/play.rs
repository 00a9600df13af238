//! A player's view of one stream, for "a scan must not make a playing video stutter": one
//! open-ended ranged GET read the way a media element reads it, with a playback clock.
//!
//! The model: playback starts once [`START_SECS`] of media are buffered; the reader reads as
//! fast as the server sends while less than [`HIGH_SECS`] are buffered and pauses (TCP
//! backpressure reaches the server) until the buffer falls to [`LOW_SECS`]. Media seconds are
//! bytes over the film's bitrate. A stall is the buffer running dry after the start; playback
//! resumes once [`REBUFFER_SECS`] are buffered again. Besides stalls it reports the lowest
//! buffer reached once it was full and how long each MiB took while the reader was reading (the refill speed).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::stats::Summary;

/// Media buffered before playback starts.
const START_SECS: f64 = 2.0;
/// The reader stops reading at this much buffered media…
const HIGH_SECS: f64 = 10.0;
/// …and reads again below this.
const LOW_SECS: f64 = 8.0;
/// Media buffered before playback resumes after a stall.
const REBUFFER_SECS: f64 = 1.0;

/// The playback clock.
struct Clock {
    bitrate_bps: f64,
    received: u64,
    played: f64,
    playing: bool,
    started: Option<Instant>,
    last: Instant,
    stalls: u32,
    stalled: Duration,
    stall_began: Option<Instant>,
    /// The buffer has reached [`HIGH_SECS`] once (the lowest buffer is counted from then).
    filled: bool,
    min_buffer: f64,
}

impl Clock {
    /// A clock for media at `bitrate_bps`, nothing received, at `start`.
    fn new(bitrate_bps: f64, start: Instant) -> Clock {
        Clock {
            bitrate_bps,
            received: 0,
            played: 0.0,
            playing: false,
            started: None,
            last: start,
            stalls: 0,
            stalled: Duration::ZERO,
            stall_began: None,
            filled: false,
            min_buffer: f64::INFINITY,
        }
    }

    fn buffered(&self) -> f64 {
        (self.received as f64 * 8.0 / self.bitrate_bps - self.played).max(0.0)
    }

    /// Moves the clock to `now`, noting a stall when the media ran out on the way.
    fn advance(&mut self, now: Instant) {
        if self.playing {
            let dt = now.duration_since(self.last).as_secs_f64();
            let left = self.buffered();
            if dt >= left {
                self.played += left;
                self.playing = false;
                self.stalls += 1;
                self.stall_began = Some(self.last + Duration::from_secs_f64(left));
            } else {
                self.played += dt;
            }
        }
        self.last = now;
        if self.playing && self.filled {
            self.min_buffer = self.min_buffer.min(self.buffered());
        }
    }

    /// Bytes arrived at `now`.
    fn received(&mut self, n: u64, now: Instant) {
        self.advance(now);
        self.received += n;
        self.filled |= self.buffered() >= HIGH_SECS;
        let need = if self.started.is_none() {
            START_SECS
        } else {
            REBUFFER_SECS
        };
        if !self.playing && self.buffered() >= need {
            self.playing = true;
            if self.started.is_none() {
                self.started = Some(now);
            }
            if let Some(began) = self.stall_began.take() {
                self.stalled += now.duration_since(began);
            }
        }
    }
}

/// Plays `secs` seconds of `url` from byte `start` at `bitrate_bps`; a JSON report.
pub async fn play(url: &str, start: u64, secs: f64, bitrate_bps: f64) -> Result<String, String> {
    if bitrate_bps <= 0.0 || secs <= 0.0 {
        return Err("bitrate and seconds must be positive".into());
    }
    let client = reqwest::Client::new();
    let t0 = Instant::now();
    let mut resp = client
        .get(url)
        .header("range", format!("bytes={start}-"))
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if resp.status().as_u16() != 206 {
        return Err(format!("GET {url}: status {}", resp.status()));
    }
    let mut clock = Clock::new(bitrate_bps, t0);
    let mut per_mib = Vec::new();
    let mut reading = Duration::ZERO;
    let mut mib_mark = 1u64 << 20;
    let deadline = t0 + Duration::from_secs_f64(secs * 3.0 + 30.0);
    while clock.played < secs {
        let now = Instant::now();
        if now > deadline {
            return Err(format!(
                "played {:.1} of {secs} s before the deadline",
                clock.played
            ));
        }
        clock.advance(now);
        if clock.playing && clock.buffered() >= HIGH_SECS {
            let pause = (clock.buffered() - LOW_SECS).max(0.01);
            tokio::time::sleep(Duration::from_secs_f64(pause)).await;
            continue;
        }
        let asked = Instant::now();
        let chunk = resp
            .chunk()
            .await
            .map_err(|e| format!("reading {url}: {e}"))?
            .ok_or_else(|| format!("{url} ended after {} bytes", clock.received))?;
        let now = Instant::now();
        reading += now.duration_since(asked);
        clock.received(chunk.len() as u64, now);
        while clock.received >= mib_mark {
            per_mib.push(reading);
            reading = Duration::ZERO;
            mib_mark += 1 << 20;
        }
    }
    let startup = clock
        .started
        .map_or(Duration::ZERO, |s| s.duration_since(t0));
    let mib = Summary::of(&per_mib);
    let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    Ok(json!({
        "secs": secs,
        "bytes": clock.received,
        "startup_ms": ms(startup),
        "stalls": clock.stalls,
        "stalled_ms": ms(clock.stalled),
        "min_buffer_s": if clock.min_buffer.is_finite() { (clock.min_buffer * 100.0).round() / 100.0 } else { 0.0 },
        "mib_p50_ms": mib.map(|m| ms(m.p50)),
        "mib_p99_ms": mib.map(|m| ms(m.p99)),
        "mib_max_ms": mib.map(|m| ms(m.max)),
    })
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_counts_a_stall_when_the_media_runs_out() {
        let t0 = Instant::now();
        let mut c = Clock::new(8.0, t0);
        let at = |s: f64| t0 + Duration::from_secs_f64(s);
        c.received(1, at(0.5)); // 1 s of media: not enough to start
        assert!(!c.playing);
        c.received(2, at(1.0)); // 3 s: playing
        assert!(c.playing && c.started == Some(at(1.0)));
        c.advance(at(3.0));
        assert_eq!(c.stalls, 0);
        c.advance(at(5.0)); // ran dry at 4.0
        assert_eq!(c.stalls, 1);
        assert!(!c.playing);
        c.received(1, at(6.0)); // 1 s again: resumes, stalled 2 s
        assert!(c.playing);
        assert!(
            (c.stalled.as_secs_f64() - 2.0).abs() < 1e-9,
            "{:?}",
            c.stalled
        );
    }
}
