//! ECMAScript `Number.prototype.toString` formatting (RFC 8785 §3.2.2.3), both from
//! an `f64` and straight from a JSON number literal.
//!
//! Most literals in real documents have at most 15 significant digits. Every such
//! decimal survives the trip through a double unchanged (15 = `f64::DIGITS`), so
//! its shortest round-trip digits are its own digits and the canonical form is only
//! a matter of layout; no float conversion is needed. Longer literals are parsed
//! into an `f64` and formatted from its shortest round-trip digits.

/// Largest integer magnitude an IEEE double holds exactly together with all
/// smaller ones: 2^53.
pub(crate) const MAX_SAFE_DIGITS: &[u8] = b"9007199254740992";

/// Why a literal has no canonical number form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberProblem {
    /// The value overflows a double.
    NonFinite,
    /// An integer literal beyond 2^53.
    BigInteger,
}

/// Appends the ECMAScript `Number.prototype.toString` form of `v`.
///
/// Returns `false` (writing nothing) for NaN and the infinities, which JSON cannot
/// represent.
pub fn write_f64(out: &mut Vec<u8>, v: f64) -> bool {
    if !v.is_finite() {
        return false;
    }
    if v == 0.0 {
        // Covers -0 too: ECMAScript prints both as "0".
        out.push(b'0');
        return true;
    }
    let mut d = [0u8; 20];
    let (neg, k, n) = es_digits(v, &mut d);
    layout(out, neg, &d[..k], n);
    true
}

/// The ECMAScript digits of a finite, non-zero `v`: sign, digit count (written to
/// `d`, no leading or trailing zeros) and `n` such that `v ≈ 0.d × 10^n`.
///
/// `zmij` (serde_json's printer of doubles) writes the shortest digits that read
/// back as `v` and, among those, the closest to `v` (the even one on a tie), which is
/// what ECMAScript asks for. Only the layout differs, so the digits are read back out
/// of its text (`-1.2345e-7`, `123.0`, `0.001`).
fn es_digits(v: f64, d: &mut [u8; 20]) -> (bool, usize, i32) {
    let mut buf = zmij::Buffer::new();
    let s = buf.format_finite(v).as_bytes();
    let neg = s[0] == b'-';
    let (mantissa, exp) = match s.iter().position(|&b| b == b'e') {
        Some(e) => (&s[usize::from(neg)..e], parse_small_exp(&s[e + 1..])),
        None => (&s[usize::from(neg)..], 0),
    };
    // value = 0.<digits> × 10^n, with n the count of digits before the point; each
    // leading zero dropped (as in 0.001) moves the point one place left.
    let mut n = mantissa.iter().position(|&c| c == b'.').unwrap_or(mantissa.len()) as i32;
    let mut k = 0;
    for &c in mantissa {
        if c == b'.' {
            continue;
        }
        if k == 0 && c == b'0' {
            n -= 1;
        } else {
            d[k] = c;
            k += 1;
        }
    }
    while k > 1 && d[k - 1] == b'0' {
        k -= 1;
    }
    (neg, k, n + exp)
}

fn parse_small_exp(s: &[u8]) -> i32 {
    let (neg, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let mut e = 0i32;
    for &b in s {
        e = e * 10 + (b - b'0') as i32;
    }
    if neg {
        -e
    } else {
        e
    }
}

/// Lays out significant `digits` (no leading or trailing zeros, at least one) of a
/// value `0.digits × 10^n` as ECMAScript does (Number::toString, steps 6 to 10).
pub(crate) fn layout(out: &mut Vec<u8>, neg: bool, digits: &[u8], n: i32) {
    let k = digits.len() as i32;
    if neg {
        out.push(b'-');
    }
    if k <= n && n <= 21 {
        out.extend_from_slice(digits);
        out.resize(out.len() + (n - k) as usize, b'0');
    } else if 0 < n && n <= 21 {
        out.extend_from_slice(&digits[..n as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-n) as usize, b'0');
        out.extend_from_slice(digits);
    } else {
        out.push(digits[0]);
        if k > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        let e = n - 1;
        out.push(if e < 0 { b'-' } else { b'+' });
        let mut tmp = [0u8; 4];
        let mut i = tmp.len();
        let mut m = e.unsigned_abs();
        loop {
            i -= 1;
            tmp[i] = b'0' + (m % 10) as u8;
            m /= 10;
            if m == 0 {
                break;
            }
        }
        out.extend_from_slice(&tmp[i..]);
    }
}

/// The parts of a JSON number literal that already passed the grammar check.
pub(crate) struct Literal<'a> {
    /// The whole literal, sign included.
    pub text: &'a [u8],
    /// A leading minus sign.
    pub neg: bool,
    /// Digits before the point.
    pub int: &'a [u8],
    /// Digits after the point (empty when there is no point).
    pub frac: &'a [u8],
    /// Whether there was a fraction or an exponent.
    pub is_integer: bool,
    /// The exponent, saturated far beyond the range of a double.
    pub exp: i32,
}

/// Whether a literal is already in canonical form, so it can be copied as it is:
/// an integer within 2^53 other than `-0`, or a decimal without exponent whose
/// digits are few enough to survive a double (at most 15 significant), with no
/// trailing zero and, below 1, at most five zeros after the point (ECMAScript
/// switches to exponent form below 10^-6).
#[inline]
pub(crate) fn is_canonical(lit: &Literal<'_>) -> bool {
    if lit.is_integer {
        let int = lit.int;
        return (int.len() < MAX_SAFE_DIGITS.len() || (int.len() == MAX_SAFE_DIGITS.len() && int <= MAX_SAFE_DIGITS))
            && !(lit.neg && int == b"0");
    }
    let no_exponent = lit.text.len() == usize::from(lit.neg) + lit.int.len() + 1 + lit.frac.len();
    if !no_exponent || lit.frac.last().is_none_or(|&d| d == b'0') {
        return false;
    }
    if lit.int == b"0" {
        let zeros = lit.frac.iter().take_while(|&&d| d == b'0').count();
        zeros <= 5 && lit.frac.len() - zeros <= 15
    } else {
        lit.int.len() + lit.frac.len() <= 15
    }
}

/// Whether a decimal literal of 16 or 17 significant digits without exponent is
/// already canonical: the shortest round-trip digits of its double, laid out as
/// ECMAScript does. `JSON.stringify` writes most doubles so (as `519.8186635971069`),
/// and settling that by printing the double and comparing costs less than re-writing
/// it. Below 1 at most five zeros may follow the point (ECMAScript switches to an
/// exponent below 10^-6), so where the printer's text equals the literal, the
/// literal's layout is ECMAScript's too.
pub(crate) fn is_shortest(lit: &Literal<'_>) -> bool {
    let no_exponent = lit.text.len() == usize::from(lit.neg) + lit.int.len() + 1 + lit.frac.len();
    if lit.is_integer || !no_exponent || lit.frac.last().is_none_or(|&d| d == b'0') {
        return false;
    }
    let significant = if lit.int == b"0" {
        let zeros = lit.frac.iter().take_while(|&&d| d == b'0').count();
        if zeros > 5 {
            return false;
        }
        lit.frac.len() - zeros
    } else {
        lit.int.len() + lit.frac.len()
    };
    if !(16..=17).contains(&significant) {
        return false;
    }
    let text = std::str::from_utf8(lit.text).expect("a number literal is ASCII");
    let v: f64 = text.parse().expect("the grammar was checked");
    // At most 17 digits and below 10^17: always finite.
    zmij::Buffer::new().format_finite(v).as_bytes() == lit.text
}

/// Appends the canonical form of a literal, or says why it has none.
pub(crate) fn write_literal(out: &mut Vec<u8>, lit: &Literal<'_>) -> Result<(), NumberProblem> {
    if lit.is_integer {
        let int = lit.int;
        if int.len() < MAX_SAFE_DIGITS.len() || (int.len() == MAX_SAFE_DIGITS.len() && int <= MAX_SAFE_DIGITS) {
            // Integers up to 2^53 print as themselves; only "-0" changes.
            if lit.neg && int == b"0" {
                out.push(b'0');
            } else {
                out.extend_from_slice(lit.text);
            }
            return Ok(());
        }
        // Beyond 2^53 an integer survives only if the double's shortest digits are
        // its own digits (e.g. 333333333333333300000); otherwise it would come out as
        // a different number.
        let lead = int.iter().take_while(|&&b| b == b'0').count();
        let sig = &int[lead..];
        let mut k = sig.len();
        while k > 0 && sig[k - 1] == b'0' {
            k -= 1;
        }
        let text = std::str::from_utf8(lit.text).expect("a number literal is ASCII");
        let v: f64 = text.parse().expect("the grammar was checked");
        if v.is_finite() && k > 0 {
            let mut d = [0u8; 20];
            let (_, dk, n) = es_digits(v, &mut d);
            if d[..dk] == sig[..k] && n as usize == sig.len() {
                layout(out, lit.neg, &d[..dk], n);
                return Ok(());
            }
        }
        return Err(NumberProblem::BigInteger);
    }
    // Significant digits: int ++ frac without leading and trailing zeros; the value
    // is 0.<digits> × 10^n.
    let lead_int = lit.int.iter().take_while(|&&b| b == b'0').count();
    let (first, mut n): (&[u8], i64) = if lead_int < lit.int.len() {
        (&lit.int[lead_int..], (lit.int.len() - lead_int) as i64)
    } else {
        let lead_frac = lit.frac.iter().take_while(|&&b| b == b'0').count();
        if lead_frac == lit.frac.len() {
            out.push(b'0');
            return Ok(());
        }
        (&[][..], -(lead_frac as i64))
    };
    let rest: &[u8] = if first.is_empty() { &lit.frac[(-n) as usize..] } else { lit.frac };
    n += lit.exp as i64;
    let total = first.len() + rest.len();
    if total <= 15 + 20 && (-300..=300).contains(&n) {
        let mut digits = [0u8; 35];
        digits[..first.len()].copy_from_slice(first);
        digits[first.len()..total].copy_from_slice(rest);
        let mut k = total;
        while digits[k - 1] == b'0' {
            k -= 1;
        }
        if k <= 15 {
            layout(out, lit.neg, &digits[..k], n as i32);
            return Ok(());
        }
    }
    let text = std::str::from_utf8(lit.text).expect("a number literal is ASCII");
    let v: f64 = text.parse().expect("the grammar was checked");
    if write_f64(out, v) {
        Ok(())
    } else {
        Err(NumberProblem::NonFinite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(v: f64) -> String {
        let mut out = Vec::new();
        assert!(write_f64(&mut out, v));
        String::from_utf8(out).unwrap()
    }

    /// Splits a literal that is known to be valid JSON.
    fn literal(text: &str) -> Literal<'_> {
        let t = text.as_bytes();
        let neg = t[0] == b'-';
        let body = &t[usize::from(neg)..];
        let int_end = body.iter().position(|b| !b.is_ascii_digit()).unwrap_or(body.len());
        let int = &body[..int_end];
        let rest = &body[int_end..];
        let (frac, rest) = match rest.strip_prefix(b".") {
            Some(r) => {
                let e = r.iter().position(|b| !b.is_ascii_digit()).unwrap_or(r.len());
                (&r[..e], &r[e..])
            }
            None => (&[][..], rest),
        };
        let exp = if rest.is_empty() { 0 } else { std::str::from_utf8(&rest[1..]).unwrap().parse().unwrap() };
        Literal { text: t, neg, int, frac, is_integer: frac.is_empty() && rest.is_empty(), exp }
    }

    #[test]
    fn literals_copied_verbatim_are_exactly_their_canonical_form() {
        let verbatim =
            ["0", "7", "-12", "9007199254740992", "0.5", "-0.25", "14.5", "0.000001", "-0.000123", "123456789.012345"];
        let rewritten = [
            "-0",
            "9007199254740993",
            "14.0",
            "1.50",
            "-0.0",
            "0.0000001",
            "1e2",
            "1.5e0",
            "0.1E1",
            "1234567890123456.7",
            "0.1234567890123456",
        ];
        for t in verbatim {
            assert!(is_canonical(&literal(t)), "{t} should be copied as it is");
        }
        for t in rewritten {
            assert!(!is_canonical(&literal(t)), "{t} is not canonical");
        }
        for t in verbatim.iter().chain(&rewritten) {
            let lit = literal(t);
            let mut out = Vec::new();
            if write_literal(&mut out, &lit).is_ok() && is_canonical(&lit) {
                assert_eq!(String::from_utf8(out).unwrap(), *t);
            }
        }
    }

    /// The shortcut for 16- and 17-digit literals says "canonical" only where the
    /// full rewrite gives the literal back, and does say it for the doubles printed
    /// without exponent (what `JSON.stringify` writes), near the edges of its rules:
    /// 15 to 17 digits, five and six zeros after the point, the last digit moved.
    #[test]
    fn long_literals_are_settled_as_the_rewrite_would() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut settled, mut eligible) = (0, 0);
        let mut check = |text: &str, must: bool| {
            let lit = literal(text);
            let mut out = Vec::new();
            let rewritten = write_literal(&mut out, &lit).map(|()| out);
            if is_shortest(&lit) {
                assert_eq!(rewritten.as_deref(), Ok(text.as_bytes()), "{text} was taken as canonical");
                settled += 1;
            } else {
                assert!(!must, "{text} is canonical with 16 or 17 digits");
            }
        };
        for n in 0..300_000u64 {
            let mantissa = (next() >> 11) as f64 / (1u64 << 53) as f64;
            let scale = 10f64.powi((n % 30) as i32 - 8);
            let v = if n % 2 == 0 { mantissa * scale } else { -mantissa * scale };
            let mut es = Vec::new();
            assert!(write_f64(&mut es, v));
            let text = String::from_utf8(es).unwrap();
            let digits = text.trim_start_matches(['-', '0', '.']).replace('.', "").len();
            let plain = !text.contains('e') && text.contains('.');
            // The printer itself switches to an exponent below 10^-4 or so: those are
            // rewritten, as before.
            let tiny = text.trim_start_matches('-').starts_with("0.0000");
            let must = plain && !tiny && (16..=17).contains(&digits);
            eligible += usize::from(must);
            check(&text, must);
            // The last digit moved either way: another double, or not the shortest.
            if plain {
                let last = text.as_bytes()[text.len() - 1];
                for d in [last.wrapping_sub(1), last + 1] {
                    if d.is_ascii_digit() && d != b'0' {
                        let mut other = text.clone().into_bytes();
                        *other.last_mut().unwrap() = d;
                        check(&String::from_utf8(other).unwrap(), false);
                    }
                }
                // One more digit is never the shortest.
                check(&format!("{text}1"), false);
            }
        }
        for t in [
            "0.000001234567890123456",
            "0.0000001234567890123456",
            "0.1000000000000001",
            "-0.1000000000000001",
            "9007199254740993.5",
            "1234567890123456.7",
            "12345678901234567.5",
            "0.30000000000000004",
            "0.3000000000000000",
            "519.8186635971069",
            "519.81866359710690",
            "1.0000000000000002e5",
        ] {
            check(t, false);
        }
        assert!(eligible > 100_000 && settled >= eligible, "{settled} settled of {eligible}");
    }

    #[test]
    fn formats_the_ecmascript_boundaries() {
        assert_eq!(fmt(0.0), "0");
        assert_eq!(fmt(-0.0), "0");
        assert_eq!(fmt(1e21), "1e+21");
        assert_eq!(fmt(1e20), "100000000000000000000");
        assert_eq!(fmt(1e-6), "0.000001");
        assert_eq!(fmt(1e-7), "1e-7");
        assert_eq!(fmt(-1.5e-7), "-1.5e-7");
        assert_eq!(fmt(5e-324), "5e-324");
        assert_eq!(fmt(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(fmt(0.1 + 0.2), "0.30000000000000004");
        // A tie between two 17-digit strings: ECMAScript takes the even one.
        assert_eq!(fmt(f64::from_bits(0x43143ff3c1cb0959)), "1424953923781206.2");
        assert!(!write_f64(&mut Vec::new(), f64::NAN));
        assert!(!write_f64(&mut Vec::new(), f64::INFINITY));
    }
}
