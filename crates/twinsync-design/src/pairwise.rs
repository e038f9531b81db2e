//! Pairwise (all-pairs) covering sets: rows of option indices such that every pair of
//! options of every two axes appears in some row. Built with the in-parameter-order
//! strategy (IPOG): the full product of the two largest axes, then one axis at a time,
//! first extending the rows (horizontal growth), then adding rows for pairs still
//! uncovered (vertical growth). Deterministic: ties go to the lowest option.

/// A covering set for axes with `sizes[i]` options each; rows in the given axis order.
/// One axis or none: every option once (or one empty row). Two axes: the full product.
pub fn pairwise(sizes: &[usize]) -> Vec<Vec<usize>> {
    if sizes.contains(&0) {
        return Vec::new();
    }
    if sizes.is_empty() {
        return vec![Vec::new()];
    }
    if sizes.len() == 1 {
        return (0..sizes[0]).map(|v| vec![v]).collect();
    }
    // Largest axes first gives smaller sets; rows are permuted back at the end.
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let s: Vec<usize> = order.iter().map(|&i| sizes[i]).collect();
    let mut rows: Vec<Vec<Option<usize>>> = Vec::new();
    for a in 0..s[0] {
        for b in 0..s[1] {
            let mut r = vec![None; s.len()];
            r[0] = Some(a);
            r[1] = Some(b);
            rows.push(r);
        }
    }
    for i in 2..s.len() {
        // uncovered[j][vj * s[i] + vi]: the pair (axis j = vj, axis i = vi) is not covered yet.
        let mut uncovered: Vec<Vec<bool>> = (0..i).map(|j| vec![true; s[j] * s[i]]).collect();
        let mut left: usize = (0..i).map(|j| s[j] * s[i]).sum();
        for r in rows.iter_mut() {
            let mut best = (0usize, 0usize);
            for v in 0..s[i] {
                let gain = (0..i).filter(|&j| r[j].is_some_and(|vj| uncovered[j][vj * s[i] + v])).count();
                if gain > best.0 {
                    best = (gain, v);
                }
            }
            let v = best.1;
            r[i] = Some(v);
            for j in 0..i {
                if let Some(vj) = r[j] {
                    let cell = &mut uncovered[j][vj * s[i] + v];
                    if *cell {
                        *cell = false;
                        left -= 1;
                    }
                }
            }
        }
        if left == 0 {
            continue;
        }
        let first_new = rows.len();
        for j in 0..i {
            for vj in 0..s[j] {
                for v in 0..s[i] {
                    if !uncovered[j][vj * s[i] + v] {
                        continue;
                    }
                    let slot = rows[first_new..].iter().position(|r| r[i] == Some(v) && r[j].is_none());
                    match slot {
                        Some(k) => rows[first_new + k][j] = Some(vj),
                        None => {
                            let mut r = vec![None; s.len()];
                            r[j] = Some(vj);
                            r[i] = Some(v);
                            rows.push(r);
                        }
                    }
                    uncovered[j][vj * s[i] + v] = false;
                }
            }
        }
    }
    rows.into_iter()
        .map(|r| {
            let mut out = vec![0; sizes.len()];
            for (pos, &axis) in order.iter().enumerate() {
                out[axis] = r[pos].unwrap_or(0);
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::pairwise;

    fn covers_all_pairs(sizes: &[usize], rows: &[Vec<usize>]) -> bool {
        for a in 0..sizes.len() {
            for b in a + 1..sizes.len() {
                for va in 0..sizes[a] {
                    for vb in 0..sizes[b] {
                        if !rows.iter().any(|r| r[a] == va && r[b] == vb) {
                            return false;
                        }
                    }
                }
            }
        }
        true
    }

    #[test]
    fn covers_every_pair_with_far_fewer_rows() {
        for sizes in [vec![3, 3, 3], vec![2, 2, 2, 2, 2, 2, 2, 2, 2, 2], vec![4, 3, 2, 2, 5], vec![2, 7, 3, 3, 3, 2]] {
            let rows = pairwise(&sizes);
            assert!(covers_all_pairs(&sizes, &rows), "{sizes:?}");
            assert!(rows.iter().all(|r| r.iter().zip(&sizes).all(|(v, s)| v < s)));
            let full: usize = sizes.iter().product();
            let max2 = {
                let mut s = sizes.clone();
                s.sort_unstable_by(|a, b| b.cmp(a));
                s[0] * s[1]
            };
            assert!(rows.len() >= max2 && rows.len() < full, "{sizes:?}: {} rows of {full}", rows.len());
        }
        // Ten booleans: 1024 combinations, 14 rows (greedy, not optimal: 6 would do).
        assert_eq!(pairwise(&[2; 10]).len(), 14);
        assert_eq!(pairwise(&[3; 4]).len(), 10);
    }

    #[test]
    fn small_inputs() {
        assert_eq!(pairwise(&[]), vec![Vec::<usize>::new()]);
        assert_eq!(pairwise(&[3]), vec![vec![0], vec![1], vec![2]]);
        assert_eq!(pairwise(&[2, 2]).len(), 4);
    }
}
