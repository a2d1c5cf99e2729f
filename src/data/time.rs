//! Civil dates: days since 1970-01-01 to and from year, month and day (proleptic Gregorian
//! calendar, Howard Hinnant's algorithms), `YYYY-MM-DD` parsing and UTC formatting.

/// Days since 1970-01-01 of the date `year-month-day` (`month` 1..=12, `day` 1..=31).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of the date `days` after 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `YYYY-MM-DD` to days since 1970-01-01; `None` when it is not such a date (month 1..=12,
/// day 1..=31).
pub fn parse_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d))
}

/// `YYYY-MM-DD HH:MM:SS` in UTC for unix seconds.
pub fn format_utc(ts: i64) -> String {
    let secs = ts.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(ts.div_euclid(86_400));
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(964_982_703), "2000-07-30 18:45:03");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59");
    }

    #[test]
    fn parses_dates_and_round_trips() {
        assert_eq!(parse_date("1970-01-18"), Some(17));
        assert_eq!(parse_date("2016-06-06"), Some(16958));
        assert_eq!(parse_date("1970-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
        for days in [-800_000, -1, 0, 17, 16958, 59, 60, 11_016, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
