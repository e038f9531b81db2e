//! OpenSpec `tasks.md`: the checkbox reader and the writer that ticks one box.
//!
//! Properties: the counts agree with the task list; the writer sees the same tasks as the
//! reader; ticking or clearing task i changes task i's state and only its line, keeps
//! every other task as it was, and fails with a clear error for a task that is not there.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinsync_fuzz::selector;
use twinsync_openspec::{count_tasks, parse_tasks, EditError, MarkdownDoc};

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = selector(data) else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };

    let tasks = parse_tasks(text);
    let progress = count_tasks(text);
    assert_eq!((progress.completed, progress.total), (tasks.iter().filter(|t| t.done).count(), tasks.len()));

    let mut doc = MarkdownDoc::parse(text);
    assert_eq!(doc.task_count(), tasks.len(), "the writer and the reader count different tasks");

    let index = usize::from(sel >> 1) % (tasks.len() + 1);
    let done = sel & 1 == 1;
    match doc.set_task(index, done) {
        Err(EditError::NoSuchTask { index: i, count }) => {
            assert_eq!((i, count, index), (index, tasks.len(), tasks.len()), "task {index} refused");
            assert!(!EditError::NoSuchTask { index: i, count }.to_string().is_empty());
        }
        Err(e) => panic!("set_task failed with {e:?}"),
        Ok(()) => {
            let out = doc.render();
            let after = parse_tasks(&out);
            assert_eq!(after.len(), tasks.len(), "ticking task {index} changed the number of tasks:\n{out:?}");
            for (k, (b, a)) in tasks.iter().zip(&after).enumerate() {
                let want = if k == index { done } else { b.done };
                assert_eq!(a.done, want, "task {k} after set_task({index}, {done}):\n{out:?}");
                assert_eq!(a.line, b.line);
                if k != index {
                    assert_eq!(a.description, b.description);
                }
            }
            let (old, new): (Vec<&str>, Vec<&str>) = (text.split('\n').collect(), out.split('\n').collect());
            assert_eq!(old.len(), new.len());
            let changed: Vec<usize> = (0..old.len()).filter(|&i| old[i] != new[i]).collect();
            assert!(
                changed.iter().all(|&i| i == tasks[index].line),
                "lines {changed:?} changed, not only task {index}'s"
            );
        }
    }
});
