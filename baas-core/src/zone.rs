//! Time zones: the zone a caller reads and writes `timestamptz` values in
//! (PostgREST's `Prefer: timezone`, which sets PostgreSQL's session
//! `TimeZone`).
//!
//! Every engine answers instants in UTC ([`format_timestamptz`]); a
//! [`Zone`] writes them as PostgreSQL writes them in JSON under that
//! session zone, and reads a local time written without an offset as
//! PostgreSQL reads it there. Both happen in mini-baas, so the four
//! engines answer the same text. What a database computes from an
//! instant is its own: PostgreSQL runs such a request with the zone as
//! its session's `TimeZone`, and a grouping by an instant's date names
//! the zone in its statement
//! ([`Aggregate::zone`](crate::ir::Aggregate::zone)).
//!
//! ```
//! use baas_core::zone::Zone;
//! use chrono::{NaiveDate, TimeZone, Utc};
//!
//! let la = Zone::parse("america/los_angeles").unwrap();
//! assert_eq!(la.name(), "America/Los_Angeles");
//! let t = Utc.with_ymd_and_hms(2023, 10, 18, 12, 37, 59).unwrap();
//! assert_eq!(la.format(t), "2023-10-18T05:37:59-07:00");
//! let local = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
//! assert_eq!(la.instant(local), Utc.with_ymd_and_hms(2023, 1, 1, 8, 0, 0).single());
//! ```
//!
//! [`format_timestamptz`]: crate::value::format_timestamptz

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};

/// A time zone of the IANA database, by the names PostgreSQL lists in
/// `pg_timezone_names`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(chrono_tz::Tz);

impl Zone {
    /// The zone named `name`, as PostgreSQL's `SET timezone` takes it:
    /// an IANA name in any case (`Europe/Paris`, `europe/paris`), also
    /// under PostgreSQL's `posix/` tree. `None` for anything else: an
    /// abbreviation (`PST`) or a POSIX rule (`UTC+3`), which
    /// `pg_timezone_names` does not list either.
    pub fn parse(name: &str) -> Option<Self> {
        let name = match name.get(..6) {
            Some(p) if p.eq_ignore_ascii_case("posix/") => &name[6..],
            _ => name,
        };
        if let Ok(tz) = name.parse::<chrono_tz::Tz>() {
            return Some(Self(tz));
        }
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
            .map(|tz| Self(*tz))
    }

    /// The zone's name in the time zone database (`America/Los_Angeles`;
    /// a link keeps its own name, `US/Pacific`), from its static table:
    /// ASCII letters, digits and `/_-+` only, so it may be written inside
    /// an SQL string literal.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Whether the zone is UTC under one of its names (`UTC`, `Etc/UTC`,
    /// `GMT`, `Zulu`…): an instant's text is then the same as without a
    /// zone.
    pub fn is_utc(&self) -> bool {
        const UTC: [&str; 9] = [
            "UTC",
            "UCT",
            "GMT",
            "GMT0",
            "GMT+0",
            "GMT-0",
            "Zulu",
            "Universal",
            "Greenwich",
        ];
        let name = self.name();
        UTC.contains(&name.strip_prefix("Etc/").unwrap_or(name))
    }

    /// `t` as PostgreSQL writes a `timestamptz` in JSON in this session
    /// zone: the local date and time ([`format_timestamp`]'s form), then
    /// the offset then in force as `±HH:MM`, with `:SS` when it has
    /// seconds (local mean times before standard time, `-04:56:02`).
    ///
    /// [`format_timestamp`]: crate::value::format_timestamp
    pub fn format(&self, t: DateTime<Utc>) -> String {
        let offset = self.0.offset_from_utc_datetime(&t.naive_utc()).fix();
        let seconds = offset.local_minus_utc();
        let Some(local) = t
            .naive_utc()
            .checked_add_signed(chrono::Duration::seconds(i64::from(seconds)))
        else {
            return crate::value::format_timestamptz(t);
        };
        let mut out = crate::value::format_timestamp(local);
        let s = seconds.unsigned_abs();
        // Hours below 24, minutes and seconds below 60: two digits each.
        let two = |out: &mut String, n: u32| {
            out.push(char::from(b'0' + (n / 10 % 10) as u8));
            out.push(char::from(b'0' + (n % 10) as u8));
        };
        out.push(if seconds < 0 { '-' } else { '+' });
        two(&mut out, s / 3600);
        out.push(':');
        two(&mut out, s / 60 % 60);
        if !s.is_multiple_of(60) {
            out.push(':');
            two(&mut out, s % 60);
        }
        out
    }

    /// The instant a local date and time of this zone names, as
    /// PostgreSQL reads a `timestamptz` written without an offset: a time
    /// that happens twice (clocks set back) is the later one (standard
    /// time), a time that never happens (clocks set forward) is read with
    /// the offset in force before the change (`02:30` on a spring-forward
    /// night of New York is `07:30Z`, which is `03:30` there). `None` past
    /// the ends of chrono's range (year ±262143), which the zone's offset
    /// would cross.
    pub fn instant(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(_, later) => Some(later.with_timezone(&Utc)),
            LocalResult::None => {
                // The offset a day before: the one in force before the
                // change (zones change at most once a day).
                let before = local.checked_sub_signed(chrono::Duration::days(1))?;
                let offset = self.0.offset_from_utc_datetime(&before).fix();
                local
                    .checked_sub_signed(chrono::Duration::seconds(i64::from(
                        offset.local_minus_utc(),
                    )))
                    .map(|utc| utc.and_utc())
            }
        }
    }
}

impl Zone {
    /// The zone's offsets from UTC through time, the ones
    /// [`Zone::format`] writes instants with: `(from, seconds)` in order
    /// of `from`, the first Unix second each offset is in force
    /// (`i64::MIN` for the first), east of UTC positive, two neighbours
    /// never of the same offset. chrono-tz's table runs from the zone's
    /// local mean time to its last listed change (2099 for zones that
    /// still change); the offset in force then stays.
    ///
    /// Found once per zone in a process (kept, a few kilobytes each) by
    /// looking at every day from 1700 to 2100, then at the second where
    /// an offset changed: zones change at most once a day.
    ///
    /// ```
    /// use baas_core::zone::Zone;
    ///
    /// let ny = Zone::parse("America/New_York").unwrap();
    /// let offsets = ny.offsets();
    /// assert_eq!(offsets[0], (i64::MIN, -17762)); // local mean time, -04:56:02
    /// // 2024-03-10T07:00:00Z: daylight saving time, four hours behind.
    /// assert!(offsets.contains(&(1_710_054_000, -4 * 3600)));
    /// ```
    pub fn offsets(&self) -> std::sync::Arc<[(i64, i32)]> {
        use std::collections::HashMap;
        use std::sync::{Arc, LazyLock, Mutex, PoisonError};
        type Offsets = Arc<[(i64, i32)]>;
        static KNOWN: LazyLock<Mutex<HashMap<chrono_tz::Tz, Offsets>>> =
            LazyLock::new(Mutex::default);
        let known = || KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(offsets) = known().get(&self.0) {
            return offsets.clone();
        }
        let offsets: Offsets = self.scan_offsets().into();
        known().entry(self.0).or_insert(offsets).clone()
    }

    /// [`Zone::offsets`], found afresh.
    fn scan_offsets(&self) -> Vec<(i64, i32)> {
        // 1700-01-01 and 2101-01-01, UTC.
        const FIRST: i64 = -8_520_336_000;
        const LAST: i64 = 4_133_980_800;
        const DAY: i64 = 86_400;
        let at = |t: i64| {
            DateTime::from_timestamp(t, 0).map_or(0, |t| {
                self.0
                    .offset_from_utc_datetime(&t.naive_utc())
                    .fix()
                    .local_minus_utc()
            })
        };
        let mut offsets = vec![(i64::MIN, at(FIRST))];
        let (mut before, mut offset) = (FIRST, at(FIRST));
        while before < LAST {
            let next = before + DAY;
            let now = at(next);
            if now != offset {
                // The first second of the new offset, in (before, next].
                let (mut old, mut new) = (before, next);
                while new - old > 1 {
                    let mid = old + (new - old) / 2;
                    if at(mid) == offset {
                        old = mid;
                    } else {
                        new = mid;
                    }
                }
                offsets.push((new, now));
                offset = now;
            }
            before = next;
        }
        offsets
    }
}

/// The instant a local date and time names in `zone`
/// ([`Zone::instant`]), or in UTC when `None`.
pub fn instant_in(local: NaiveDateTime, zone: Option<Zone>) -> Option<DateTime<Utc>> {
    match zone {
        Some(z) => z.instant(local),
        None => Some(local.and_utc()),
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    /// The names PostgreSQL takes, in any case and under `posix/`; an
    /// abbreviation or a POSIX rule is none.
    #[test]
    fn names() {
        assert_eq!(Zone::parse("Europe/Paris").unwrap().name(), "Europe/Paris");
        assert_eq!(Zone::parse("EUROPE/PARIS").unwrap().name(), "Europe/Paris");
        assert_eq!(
            Zone::parse("posix/Asia/Kolkata").unwrap().name(),
            "Asia/Kolkata"
        );
        for utc in ["UTC", "utc", "Etc/UTC", "GMT", "zulu", "Etc/Greenwich"] {
            assert!(Zone::parse(utc).unwrap().is_utc(), "{utc}");
        }
        assert!(!Zone::parse("Europe/London").unwrap().is_utc());
        assert_eq!(
            Zone::parse("POSIX/Europe/Paris").unwrap().name(),
            "Europe/Paris"
        );
        for bad in ["PST", "UTC+3", "", "Mars/Olympus", "Europe/Paris "] {
            assert_eq!(Zone::parse(bad), None, "{bad}");
        }
    }

    /// PostgreSQL 15's own answers (`SET timezone …; SELECT to_json(…)`).
    #[test]
    fn formats_as_postgresql() {
        let z = |name: &str, t: &str| {
            Zone::parse(name)
                .unwrap()
                .format(crate::value::parse_timestamptz(t).unwrap())
        };
        assert_eq!(
            z("America/New_York", "2018-11-04T05:30:00Z"),
            "2018-11-04T01:30:00-04:00"
        );
        assert_eq!(
            z("America/New_York", "2018-07-04T05:30:00.25Z"),
            "2018-07-04T01:30:00.25-04:00"
        );
        assert_eq!(
            z("America/New_York", "1850-01-01T04:56:02Z"),
            "1850-01-01T00:00:00-04:56:02"
        );
        assert_eq!(
            z("Asia/Kolkata", "1900-01-01T00:00:00Z"),
            "1900-01-01T05:21:10+05:21:10"
        );
        assert_eq!(
            z("Asia/Kolkata", "2026-12-07T02:29:15Z"),
            "2026-12-07T07:59:15+05:30"
        );
        assert_eq!(
            z("UTC", "2026-12-07T02:29:15Z"),
            "2026-12-07T02:29:15+00:00"
        );
    }

    /// PostgreSQL's reading of local times that happen twice or never.
    #[test]
    fn reads_local_times_as_postgresql() {
        let ny = Zone::parse("America/New_York").unwrap();
        let utc = |t: NaiveDateTime| Some(t.and_utc());
        // Spring forward: 02:30 never happens; PostgreSQL says 07:30Z.
        assert_eq!(
            ny.instant(at(2018, 3, 11, 2, 30)),
            utc(at(2018, 3, 11, 7, 30))
        );
        // Fall back: 01:30 happens twice; PostgreSQL takes standard time.
        assert_eq!(
            ny.instant(at(2018, 11, 4, 1, 30)),
            utc(at(2018, 11, 4, 6, 30))
        );
        assert_eq!(
            ny.instant(at(2018, 7, 1, 12, 0)),
            utc(at(2018, 7, 1, 16, 0))
        );
    }

    /// The offsets found for a zone are chrono-tz's, to the second: at
    /// every change and the second before it, and every six hours from
    /// 1800 to 2100 (zones whose changes are close together, half-hour
    /// and 45-minute offsets, one that skipped a day).
    #[test]
    fn offsets_are_chrono_tz_s() {
        use chrono::TimeZone as _;
        for name in [
            "America/New_York",
            "Europe/Paris",
            "Africa/Casablanca",
            "Australia/Lord_Howe",
            "Asia/Kathmandu",
            "Pacific/Apia",
            "Pacific/Kiritimati",
            "Asia/Kolkata",
            "UTC",
        ] {
            let zone = Zone::parse(name).unwrap();
            let offsets = zone.offsets();
            let truth = |t: i64| {
                zone.0
                    .offset_from_utc_datetime(&DateTime::from_timestamp(t, 0).unwrap().naive_utc())
                    .fix()
                    .local_minus_utc()
            };
            let found = |t: i64| offsets[offsets.partition_point(|(from, _)| *from <= t) - 1].1;
            for pair in offsets.windows(2) {
                let (from, offset) = pair[1];
                assert_ne!(pair[0].1, offset, "{name}: two spans of one offset");
                assert_eq!(truth(from), offset, "{name} at {from}");
                assert_eq!(truth(from - 1), pair[0].1, "{name} before {from}");
            }
            let mut t = -5_364_662_400; // 1800-01-01
            while t < 4_102_444_800 {
                assert_eq!(found(t), truth(t), "{name} at {t}");
                t += 6 * 3600 + 17;
            }
            assert!(std::sync::Arc::ptr_eq(&offsets, &zone.offsets()), "kept");
        }
        assert_eq!(Zone::parse("UTC").unwrap().offsets()[..], [(i64::MIN, 0)]);
    }

    #[test]
    fn every_name_is_letters_digits_and_separators() {
        for tz in chrono_tz::TZ_VARIANTS {
            let name = Zone::parse(tz.name()).unwrap().name();
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b)),
                "{name}"
            );
        }
    }
}
